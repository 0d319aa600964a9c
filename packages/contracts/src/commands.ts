import { z } from 'zod';
import { Access, ActionName, ResourceName } from './events.js';
import { EnforcerId, IdentityId, Instant, SessionId } from './ids.js';

/**
 * Outputs of the pipeline. Every command about an identity carries that identity's scope
 * `version`: it increases by one with every change, is deterministic for a given input sequence,
 * and enforcement points apply a command only when it is newer than what they hold.
 * Commands are signed (Ed25519) in Kafka headers over the exact message value; see `signing.ts`.
 */

export const IdentityStatus = z.enum(['active', 'disabled', 'deleted']);
export type IdentityStatus = z.infer<typeof IdentityStatus>;

/** Why something changed. */
export const Cause = z.strictObject({
  /** The input event that caused it; absent when time alone did (a `validUntil` passed). */
  eventId: z.string().optional(),
  eventType: z.string().optional(),
  /** True when the change was emitted by the worker's own timer, without an input event. */
  timer: z.boolean().optional(),
  policyIds: z.array(z.string()).optional(),
  orderIds: z.array(z.string()).optional(),
  actor: z.string().optional(),
});
export type Cause = z.infer<typeof Cause>;

/** A permission in an identity's runtime scope. */
export const ScopePermission = z.strictObject({
  action: ActionName,
  resource: ResourceName,
  access: Access,
  /** The earliest instant at which this permission can leave the scope without any new event; null = no such instant. */
  validUntil: Instant.nullable(),
  /** The grants that provision it (role grant ids and just-in-time grant ids). */
  grants: z.array(z.string()).min(1),
  /**
   * When set, the permission holds only in these sessions (an approval given for a session, a
   * just-in-time grant bound to its task session); absent: in any live session of the identity.
   */
  sessions: z.array(SessionId).min(1).optional(),
});
export type ScopePermission = z.infer<typeof ScopePermission>;

export const PermissionDelta = z.strictObject({
  action: ActionName,
  resource: ResourceName,
  access: Access,
  validUntil: Instant.nullable().optional(),
  cause: Cause,
});
export type PermissionDelta = z.infer<typeof PermissionDelta>;

const scopeBody = {
  identityId: IdentityId,
  version: z.number().int().min(1),
  /** Logical time of the change: the event's processing time, or the instant a timer fired for. */
  at: Instant,
  status: IdentityStatus,
  permissions: z.array(ScopePermission),
  /** Sessions the enforcement point should accept for this identity. */
  sessions: z.array(SessionId),
};

export const ScopeChange = z.strictObject({
  kind: z.literal('scope.change'),
  ...scopeBody,
  previousVersion: z.number().int().min(0),
  direction: z.enum(['narrowing', 'widening', 'mixed', 'refresh']),
  added: z.array(PermissionDelta),
  removed: z.array(PermissionDelta),
  cause: Cause,
});
export type ScopeChange = z.infer<typeof ScopeChange>;

export const ScopeSnapshot = z.strictObject({ kind: z.literal('scope.snapshot'), ...scopeBody });
export type ScopeSnapshot = z.infer<typeof ScopeSnapshot>;

export const RevocationTarget = z.strictObject({
  type: z.enum(['session', 'token', 'lease']),
  id: z.string().min(1),
  /** The system that must act: the session issuer, the token service, the vault holding the lease. */
  system: z.string().min(1),
  secretPath: z.string().optional(),
});
export type RevocationTarget = z.infer<typeof RevocationTarget>;

export const Revocation = z.strictObject({
  kind: z.literal('revocation'),
  /** Deterministic: `<identityId>/<version>/<index>`, so a replay produces the same id. */
  revocationId: z.string(),
  identityId: IdentityId,
  version: z.number().int().min(1),
  at: Instant,
  target: RevocationTarget,
  reason: z.string(),
  cause: Cause,
});
export type Revocation = z.infer<typeof Revocation>;

export const DriftAlertType = z.enum([
  'out-of-scope-attempt',
  'excess-privilege',
  'sudden-widening',
  'human-use',
  'secret-access-without-session',
  'token-replay',
  'secret-leaked',
  'stale-enforcer',
  'rejected-command',
  /** A partition of the events topic is not advancing while input waits (the worker is stuck on it). */
  'partition-stuck',
  /** A control event (or a widening) came from a producer without a control key allowed to send it. */
  'unauthorized-producer',
  /** An approval by a non-human, by the identity itself, or without verified evidence of a human. */
  'invalid-approval',
]);
export type DriftAlertType = z.infer<typeof DriftAlertType>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const DriftAlert = z.strictObject({
  kind: z.literal('drift.alert'),
  /** Deterministic where the alert derives from an event: `<identityId>/<eventId>/<type>`. */
  alertId: z.string(),
  type: DriftAlertType,
  severity: Severity,
  identityId: IdentityId.optional(),
  enforcerId: EnforcerId.optional(),
  at: Instant,
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
  cause: Cause,
});
export type DriftAlert = z.infer<typeof DriftAlert>;

export const Heartbeat = z.strictObject({
  kind: z.literal('heartbeat'),
  workerId: z.string(),
  /** Partition of the events topic this worker owns. */
  partition: z.number().int().min(0),
  at: Instant,
  /** Next offset to process on that partition: everything before it is applied. */
  nextOffset: z.string(),
  /**
   * The partition's log end offset the worker last saw. `nextOffset` behind it and not advancing
   * means the partition is stuck: enforcers treat it like silence (fail closed). Absent from
   * heartbeats of older workers.
   */
  logEndOffset: z.string().optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const EnforcerAck = z.strictObject({
  kind: z.literal('enforcer.ack'),
  enforcerId: EnforcerId,
  at: Instant,
  identities: z.number().int().min(0),
  applied: z
    .array(
      z.strictObject({
        identityId: IdentityId,
        version: z.number().int().min(1),
        /** Kafka timestamp of the command (when it was produced). */
        producedAt: Instant,
        appliedAt: Instant,
        kind: z.enum(['scope.change', 'scope.snapshot', 'revocation']),
      }),
    )
    .max(10_000),
  /** Highest version applied per identity is not sent; this is the count of rejected commands since the last ack. */
  rejected: z.number().int().min(0),
});
export type EnforcerAck = z.infer<typeof EnforcerAck>;

export const DeadLetterReason = z.enum([
  'not-wire-format',
  'unknown-schema-id',
  'not-json',
  'schema-invalid',
  'oversized',
  'missing-key',
  'key-mismatch',
  'unknown-identity',
  'identity-deleted',
  'timestamp-in-future',
  'invalid-signature',
  'invalid-policy',
  'unsupported',
  /** Applying the event failed inside the engine (a defect, or data it cannot handle); state is as before it. */
  'unprocessable',
  /** Applying the event would exceed a documented per-identity limit (grants, sessions, output size…). */
  'limit-exceeded',
  /** A control event not signed by a producer key whose capabilities allow it, or an observation that would widen. */
  'unauthorized-producer',
  /** An approval by a non-human, by the identity itself, or without verified evidence of a human. */
  'invalid-approval',
  /** A signed control event older than the freshness window (a replay of a captured event). */
  'stale-control-event',
]);
export type DeadLetterReason = z.infer<typeof DeadLetterReason>;

export const DeadLetter = z.strictObject({
  kind: z.literal('dead-letter'),
  reason: DeadLetterReason,
  message: z.string(),
  source: z.strictObject({
    topic: z.string(),
    partition: z.number().int(),
    offset: z.string(),
    timestamp: z.string(),
    /** The original key, base64; absent when the message had none. */
    key: z.string().optional(),
  }),
  /** The original value bytes, base64; only the first `DEAD_LETTER_VALUE_BYTES` when `valueTruncated`. */
  value: z.string(),
  /** Length of the original value in bytes. */
  valueBytes: z.number().int().min(0).optional(),
  /** SHA-256 of the whole original value (hex), so a truncated original can still be matched. */
  valueSha256: z.string().optional(),
  valueTruncated: z.boolean().optional(),
  /** Set when the event could be parsed far enough to know it. */
  eventId: z.string().optional(),
  eventType: z.string().optional(),
  workerId: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** At most this many bytes of an original value are kept in a dead letter (base64 makes it 4/3 larger). */
export const DEAD_LETTER_VALUE_BYTES = 64 * 1024;

/**
 * The head of one partition's audit hash chain, published periodically and signed like a command,
 * so that a removed tail of the audit log in PostgreSQL is detectable (`livescope audit verify`).
 */
export const AuditHead = z.strictObject({
  kind: z.literal('audit.head'),
  /** The events topic whose partition the chain belongs to. */
  topic: z.string(),
  partition: z.number().int().min(0),
  /** Sequence number of the last audit row of the chain (decimal string). */
  seq: z.string(),
  /** Hash of that row (hex). */
  hash: z.string(),
  /** Next offset of the partition when the head was read. */
  nextOffset: z.string(),
  at: Instant,
  workerId: z.string(),
});
export type AuditHead = z.infer<typeof AuditHead>;

export type Command = ScopeChange | ScopeSnapshot | Revocation;
