import type { Access, IdentityId, IdentityKind, IdentityStatus } from '@livescope/contracts';

/**
 * Per-identity state. Records are immutable: a transition returns a new object (or the same one
 * when nothing changed), which gives the worker its dirty set for free and keeps the core pure.
 * Times are epoch milliseconds. Arrays are small (a handful of grants, sessions, leases).
 */

/** A provisioned permission. Interned: identities that share a role share these objects. */
export interface Perm {
  readonly key: string;
  /** UTF-8 bytes of the action and resource as JSON strings (quotes and escapes included): sizes commands before they are built. */
  readonly jsonBytes: number;
  readonly action: string;
  readonly resource: string;
  readonly access: Access;
  readonly resourceType: string | undefined;
  readonly system: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>> | undefined;
}

export interface RoleGrant {
  readonly grantId: string;
  readonly role: string;
  readonly perms: readonly Perm[];
  readonly at: number;
}

export interface JitGrant {
  readonly grantId: string;
  readonly perms: readonly Perm[];
  readonly expiresAt: number;
  readonly sessionId: string | undefined;
  readonly at: number;
}

export interface Session {
  readonly sessionId: string;
  readonly task: string | undefined;
  readonly mfa: boolean;
  readonly tokenId: string | undefined;
  readonly system: string;
  readonly startedAt: number;
  readonly expiresAt: number | undefined;
  /**
   * Started by a producer allowed to start sessions (a signed `session.started`). Only attested
   * sessions are sent to enforcement points and seen by policies; an *observed* session (from an
   * unsigned observation, e.g. an ingested log) is kept so that it can be revoked and alerted on.
   */
  readonly attested: boolean;
}

export interface Approval {
  readonly approvalId: string;
  readonly escalation: string;
  readonly sessionId: string | undefined;
  readonly approvedBy: string;
  readonly expiresAt: number;
  /** The approver was verified to be a person (the only approvals the engine accepts; false only for state written before approvals were verified). */
  readonly human: boolean;
}

export interface Anomaly {
  readonly anomalyId: string;
  readonly kind: string;
  readonly severity: string;
  readonly expiresAt: number;
}

export interface Lease {
  readonly leaseId: string;
  readonly secretPath: string;
  readonly system: string;
  readonly sessionId: string | undefined;
  readonly expiresAt: number;
}

/** One permission of the computed runtime scope. */
export interface ScopeEntry {
  readonly perm: Perm;
  /** Epoch ms, or null when no future instant can remove it without a new event. */
  readonly validUntil: number | null;
  readonly grants: readonly string[];
  /** Sessions the permission is bound to (approvals and just-in-time grants given for a session); undefined: any live session. */
  readonly sessions: readonly string[] | undefined;
}

export interface IdentityState {
  readonly id: IdentityId;
  readonly status: IdentityStatus;
  readonly kind: IdentityKind;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: number;
  /**
   * The attributes (kind, name, namespace, owner, labels) come from a producer allowed to send
   * identity lifecycle events. An identity first seen in an unsigned observation is provisional: it
   * exists (its observations are recorded, narrowing orders reach it) but has no runtime scope until
   * a signed `identity.created` or `identity.updated` attests it.
   */
  readonly attested: boolean;
  /** Event time of the last lifecycle change (created, disabled, enabled): an older replayed lifecycle event cannot undo a newer one. */
  readonly lifecycleAt: number;
  /** Scope version: +1 on every change of permissions, sessions or status. */
  readonly version: number;
  /** Logical clock: the latest instant this identity was evaluated at. */
  readonly clock: number;
  readonly grants: readonly RoleGrant[];
  readonly jit: readonly JitGrant[];
  readonly sessions: readonly Session[];
  readonly approvals: readonly Approval[];
  readonly anomalies: readonly Anomaly[];
  readonly leases: readonly Lease[];
  readonly riskScore: number;
  /** Event time of the risk score, so an older score arriving late does not win. */
  readonly riskAt: number;
  readonly humanUseUntil: number;
  /**
   * Ended sessions, revoked grants, leases and approvals (`session:<id>`, `grant:<id>`, …), as
   * 53-bit hashes (`idHash`): late events cannot revive them.
   */
  readonly tombstones: readonly number[];
  /** The last `dedupeWindow` event ids applied, as 53-bit hashes (`idHash`): duplicates are ignored. */
  readonly recentEventIds: readonly number[];
  readonly scope: readonly ScopeEntry[];
  /** Epoch ms of the next instant the scope can change without an event; null = none. */
  readonly wakeAt: number | null;
  /**
   * Epoch ms at which a snapshot of this identity's scope is due (its changes since the last snapshot
   * were produced without one; see `EngineConfig.snapshotIntervalMs`); null = the snapshot topic has
   * its version. Persisted, so a pending snapshot survives a restart or a rebalance.
   */
  readonly snapshotAt: number | null;
  /** Last observed use per permission key (epoch ms); feeds excess-privilege detection. */
  readonly lastUsed: Readonly<Record<string, number>>;
  /** Permission keys already reported as unused since their last use. */
  readonly excessReported: readonly string[];
}

/**
 * The empty list and record every identity starts with, shared: records are immutable (a change
 * makes new arrays), and a million identities would otherwise hold ten empty arrays each.
 */
// Not frozen: a frozen array has its own elements kind, which would make hot array code polymorphic.
export const NONE: readonly never[] = [];
export const NO_RECORD: Readonly<Record<string, never>> = Object.freeze({});

export function newIdentity(init: {
  id: IdentityId;
  kind: IdentityKind;
  name: string;
  namespace: string;
  owner: string;
  labels: Readonly<Record<string, string>>;
  at: number;
  attested: boolean;
  lifecycleAt: number;
}): IdentityState {
  const { at, ...attributes } = init;
  return {
    ...attributes,
    status: 'active',
    createdAt: at,
    version: 0,
    clock: at,
    grants: NONE,
    jit: NONE,
    sessions: NONE,
    approvals: NONE,
    anomalies: NONE,
    leases: NONE,
    riskScore: 0,
    riskAt: 0,
    humanUseUntil: 0,
    tombstones: NONE,
    recentEventIds: NONE,
    scope: NONE,
    wakeAt: null,
    snapshotAt: null,
    lastUsed: NO_RECORD,
    excessReported: NONE,
  };
}

export const permKey = (action: string, resource: string): string => `${action}\u0000${resource}`;

/** Sessions enforcement points accept and policies see: attested ones. */
export function attestedSessions(s: IdentityState): readonly Session[] {
  for (const x of s.sessions) if (!x.attested) return s.sessions.filter((y) => y.attested);
  return s.sessions;
}
