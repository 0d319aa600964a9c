/**
 * A credential seen in use from a network address: the network facts an adapter carries next to an
 * activity, so a detector stage can tell one token used from two networks, or an instance credential
 * used outside the platform that issued it. Never written to Kafka as such.
 */
export interface CredentialUse {
  readonly identityId: string;
  /** The token, access key, or credential id (becomes the `tokenId` of a replay event). */
  readonly credentialId: string;
  readonly sessionId?: string;
  /** The caller's address as the source logged it (an IP; non-IP values such as `AWS Internal` are never recorded). */
  readonly sourceIp: string;
  readonly time: string;
  /** Id of the record's first event, from which a detection derives its own id. */
  readonly recordKey: string;
  /**
   * Set when the credential is bound to a machine of a platform (an EC2 instance profile, a pod-bound
   * service-account token): using it from outside that platform's networks is replay by itself.
   */
  readonly boundTo?: { readonly platform: string; readonly machine: string };
  /** What the source calls the action, for the evidence text. */
  readonly action?: string;
}
