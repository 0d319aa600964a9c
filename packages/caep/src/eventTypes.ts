/** Event type URIs of OpenID CAEP 1.0, SSF 1.0 and RISC 1.0. */
export const CaepEventType = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  tokenClaimsChange: 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  assuranceLevelChange: 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
  deviceComplianceChange: 'https://schemas.openid.net/secevent/caep/event-type/device-compliance-change',
  sessionEstablished: 'https://schemas.openid.net/secevent/caep/event-type/session-established',
  sessionPresented: 'https://schemas.openid.net/secevent/caep/event-type/session-presented',
  riskLevelChange: 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change',
} as const;
export type CaepEventType = (typeof CaepEventType)[keyof typeof CaepEventType];

export const SsfEventType = {
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  streamUpdated: 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;
export type SsfEventType = (typeof SsfEventType)[keyof typeof SsfEventType];

export const RiscEventType = {
  accountDisabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  accountEnabled: 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  accountPurged: 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  accountCredentialChangeRequired: 'https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required',
  credentialCompromise: 'https://schemas.openid.net/secevent/risc/event-type/credential-compromise',
  sessionsRevoked: 'https://schemas.openid.net/secevent/risc/event-type/sessions-revoked',
  tokensRevoked: 'https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked',
} as const;
export type RiscEventType = (typeof RiscEventType)[keyof typeof RiscEventType];

/** What livescope's transmitter emits (its `events_supported`). */
export const TRANSMITTED_EVENT_TYPES: readonly string[] = [
  CaepEventType.sessionRevoked,
  CaepEventType.credentialChange,
  CaepEventType.tokenClaimsChange,
  CaepEventType.assuranceLevelChange,
  RiscEventType.accountDisabled,
  RiscEventType.accountEnabled,
  RiscEventType.accountPurged,
  SsfEventType.verification,
  SsfEventType.streamUpdated,
];

/** Delivery method URIs of SSF 1.0. */
export const DeliveryMethod = { push: 'urn:ietf:rfc:8935', poll: 'urn:ietf:rfc:8936' } as const;
export type DeliveryMethod = (typeof DeliveryMethod)[keyof typeof DeliveryMethod];

/** Names of livescope's extension members in events (SSF requires URIs for members a spec does not define). */
export const LivescopeMember = {
  credentialId: 'urn:livescope:ssf:credential_id',
  system: 'urn:livescope:ssf:system',
  secretPath: 'urn:livescope:ssf:secret_path',
  revocationId: 'urn:livescope:ssf:revocation_id',
  scopeVersion: 'urn:livescope:ssf:scope_version',
} as const;

/**
 * The final event-type URI of a received one. Pre-final SSF drafts (the "Shared Signals and Events"
 * framework) used `…/secevent/sse/event-type/…` for the stream events; some transmitters write
 * `http://` and trailing slashes. Unknown URIs are returned as they are.
 */
export function normalizeEventType(uri: string): string {
  const m = /^https?:\/\/schemas\.openid\.net\/secevent\/(sse|ssf|caep|risc|oauth)\/event-type\/([a-z0-9-]+)\/?$/i.exec(uri.trim());
  if (!m) return uri;
  const family = m[1]!.toLowerCase() === 'sse' ? 'ssf' : m[1]!.toLowerCase();
  const name = m[2]!.toLowerCase();
  // RISC's tokens-revoked moved to the OAuth event types.
  if (family === 'risc' && name === 'tokens-revoked') return 'https://schemas.openid.net/secevent/oauth/event-type/tokens-revoked';
  return `https://schemas.openid.net/secevent/${family}/event-type/${name}`;
}
