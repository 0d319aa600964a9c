import type { LivescopeEventInput } from '@livescope/contracts';
import type { CredentialUse } from './CredentialUse.js';
import type { HumanActivity, SkipCode, SkipNote } from './SkipNote.js';

/** The source families an adapter exists for (the CLI's first argument). */
export const SourceName = {
  vault: 'vault',
  k8s: 'k8s',
  cloudtrail: 'cloudtrail',
  githubOidc: 'github-oidc',
  okta: 'okta',
  gcpAudit: 'gcp-audit',
  entra: 'entra',
} as const;
export type SourceName = (typeof SourceName)[keyof typeof SourceName];
export const sourceNames: readonly SourceName[] = Object.values(SourceName);

/** Dead-letter reasons an adapter produces (a subset of the contract's `DeadLetterReason`). */
export type AdapterDeadLetterReason = 'unsupported' | 'schema-invalid' | 'not-json' | 'oversized';

export interface DeadLetterIntent {
  readonly reason: AdapterDeadLetterReason;
  readonly message: string;
}

/**
 * What one source record became: zero or more livescope events, or a dead letter. A record that is
 * valid but out of livescope's model (a human login, a read of a non-secret path) has no events and a
 * `skipped` note saying why (a code and the field that decided it), so the shell can count it without
 * dead-lettering valid input.
 */
export interface MappingResult {
  readonly events: LivescopeEventInput[];
  readonly deadLetter?: DeadLetterIntent;
  readonly skipped?: SkipNote;
  /** Credentials seen in use, with their network facts (for the replay detector). */
  readonly uses?: readonly CredentialUse[];
  /** A person's activity, when the adapter keeps records of people (`humans: 'keep'`). */
  readonly human?: HumanActivity;
}

/** A record as the shell read it: the original text (kept for dead letters) and its JSON parse. */
export interface AdapterInput {
  readonly raw: string;
  readonly parsed: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };
  /**
   * Set only by the shell, after it verified the record's signature (a GitHub OIDC JWT against the
   * issuer's JWKS). Nothing inside a record can set it.
   */
  readonly verified?: boolean;
}

/** A mapping result together with the original text of the record it came from. */
export interface SourcedResult extends MappingResult {
  readonly raw: string;
}

export interface AdapterContext {
  /**
   * When the shell received the record (RFC 3339). Used only as the event time of records that carry
   * no timestamp of their own (cut-down samples); ids never depend on it.
   */
  readonly receivedAt: string;
}

export interface Step<S> {
  readonly state: S;
  readonly results: readonly SourcedResult[];
}

/**
 * A source adapter as a reducer over its records. Mapping is pure; the state holds what a record needs
 * from earlier ones (Vault request/response joins, tokens seen at login, RBAC roles, identities already
 * announced), each map bounded. The state is *linear*: `step` returns the successor and the argument
 * must not be used again (the bounded maps are updated in place for O(1) cost; reuse is detected and
 * throws `STATE_REUSED`).
 */
export interface RecordAdapter<S> {
  /** The family, or `auto` for the adapter that detects the family of each record. */
  readonly source: SourceName | 'auto';
  initialState(): S;
  step(state: S, input: AdapterInput, ctx: AdapterContext): Step<S>;
  /** End of input: results for records still waiting for a partner (e.g. Vault requests without response). */
  flush(state: S, ctx: AdapterContext): Step<S>;
}

export const noEvents = (code: SkipCode, field: string, message: string): MappingResult => ({ events: [], skipped: { code, field, message } });
export const deadLetter = (reason: AdapterDeadLetterReason, message: string): MappingResult => ({ events: [], deadLetter: { reason, message } });
