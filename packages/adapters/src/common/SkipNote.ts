/**
 * Why a valid record produced no events. Every skip carries a stable `code` (a fixed list: safe as a
 * metric label), the record `field` that decided it (e.g. `user.username`, `userIdentity.type`), and a
 * message naming the field's value. Nothing an adapter reads is dropped without one.
 */
export const SkipCode = {
  /** The actor is a person: livescope tracks non-human identities (see `HumanActivity`). */
  human: 'human',
  /** An intermediate stage of a request; its outcome follows in a later record (Kubernetes `RequestReceived`). */
  notFinal: 'not-final',
  /** The request failed for a reason other than authorization: no permission was used. */
  failed: 'failed',
  /** The record names no identity it can be attributed to (a Google-internal caller, an unresolved token). */
  unattributed: 'unattributed',
  /** Understood, and nothing in livescope's model changes (a role definition, a help request). */
  noEffect: 'no-effect',
  /** The part that carries the meaning is missing (a binding logged without its object, a request without a response). */
  incomplete: 'incomplete',
  /** Set by the ingest shell: control events the configured producer key may not send (or no key at all). */
  needsProducerKey: 'needs-producer-key',
} as const;
export type SkipCode = (typeof SkipCode)[keyof typeof SkipCode];
export const skipCodes: readonly SkipCode[] = Object.values(SkipCode);

export interface SkipNote {
  readonly code: SkipCode;
  /** The record field that decided the skip, as a dotted path of the vendor format. */
  readonly field: string;
  readonly message: string;
}

/**
 * What a person did, kept when the adapter runs with `humans: 'keep'` (organisations that want
 * human-approval context next to livescope). Never an identity event: the contract has no kind for a
 * person, and an approver tracked as an identity would have its approvals refused.
 */
export interface HumanActivity {
  readonly source: string;
  /** The person as the source names them (a username, an email, an ARN). */
  readonly actor: string;
  /** The field the actor was read from. */
  readonly actorField: string;
  readonly time: string;
  readonly action?: string;
  readonly resource?: string;
  readonly sourceIp?: string;
  readonly outcome?: 'success' | 'failure' | 'denied';
}

/** Whether records of people are skipped (default) or kept as `HumanActivity`. */
export type HumanMode = 'skip' | 'keep';
