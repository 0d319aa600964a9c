import type { IdentityState, ScopeEntry } from './IdentityState.js';

/**
 * Per-identity limits. Every command about an identity carries its full scope, and the broker refuses
 * a message above its maximum size (1 MiB by default): without bounds, one identity with enough
 * grants would produce a change no broker accepts and stop its partition. An event that would take an
 * identity past a limit is refused (`limit-exceeded`), the state stays as it was. The defaults keep
 * the largest change and snapshot below `maxCommandBytes`, which is below the broker default.
 */
export interface IdentityLimits {
  /** Role grants per identity. Default 64 (each grant has at most 256 permissions, by contract). */
  readonly grants: number;
  /** Just-in-time grants per identity. Default 32. */
  readonly jitGrants: number;
  /** Distinct provisioned permissions (the candidates of the scope). Default 1024. */
  readonly permissions: number;
  /** Live sessions per identity, attested and observed. Default 64. */
  readonly sessions: number;
  /** Live approvals per identity. Default 64. */
  readonly approvals: number;
  /** Live anomalies per identity. Default 64. */
  readonly anomalies: number;
  /** Live secret leases per identity. Default 256. */
  readonly leases: number;
  /**
   * Largest command (scope change or snapshot) in bytes, estimated from the scope before it is
   * produced. Default 900 KiB: below the broker's default `message.max.bytes` of 1 MiB with room for
   * the wire header, headers and record overhead.
   */
  readonly maxCommandBytes: number;
}

export const defaultIdentityLimits: IdentityLimits = {
  grants: 64,
  jitGrants: 32,
  permissions: 1024,
  sessions: 64,
  approvals: 64,
  anomalies: 64,
  leases: 256,
  maxCommandBytes: 900 * 1024,
};

/** The first limit `s` exceeds, as a message naming it, or undefined. */
export function exceededLimit(s: IdentityState, limits: IdentityLimits): string | undefined {
  if (s.grants.length > limits.grants) return `${s.grants.length} role grants exceed the limit of ${limits.grants}`;
  if (s.jit.length > limits.jitGrants) return `${s.jit.length} just-in-time grants exceed the limit of ${limits.jitGrants}`;
  if (s.sessions.length > limits.sessions) return `${s.sessions.length} sessions exceed the limit of ${limits.sessions}`;
  if (s.approvals.length > limits.approvals) return `${s.approvals.length} approvals exceed the limit of ${limits.approvals}`;
  if (s.anomalies.length > limits.anomalies) return `${s.anomalies.length} anomalies exceed the limit of ${limits.anomalies}`;
  if (s.leases.length > limits.leases) return `${s.leases.length} secret leases exceed the limit of ${limits.leases}`;
  let perms = 0;
  for (const g of s.grants) perms += g.perms.length;
  for (const g of s.jit) perms += g.perms.length;
  // Counted with repeats across grants: an upper bound of the distinct permissions, exact for the common case.
  if (perms > limits.permissions) {
    const distinct = new Set<string>();
    for (const g of s.grants) for (const p of g.perms) distinct.add(p.key);
    for (const g of s.jit) for (const p of g.perms) distinct.add(p.key);
    if (distinct.size > limits.permissions) return `${distinct.size} provisioned permissions exceed the limit of ${limits.permissions}`;
  }
  return undefined;
}

/** JSON bytes of one scope permission, an upper bound (quotes, escapes of plain text, field names). */
function entryBytes(e: ScopeEntry): number {
  // {"action":"","resource":"","access":"admin","validUntil":"2026-12-06T00:00:00.000Z","grants":[],"sessions":[]}
  let n = 120 + e.perm.action.length + e.perm.resource.length * 2;
  for (const g of e.grants) n += g.length * 2 + 3;
  if (e.sessions) for (const x of e.sessions) n += x.length + 3;
  return n;
}

/**
 * An upper bound of the size of the scope change that moves an identity from `prev` to `next`: the
 * full scope (`permissions`), the added and removed deltas with their causes, and the sessions.
 * Resource names are counted twice to cover JSON escapes of unusual characters.
 */
export function estimateCommandBytes(prev: readonly ScopeEntry[], next: readonly ScopeEntry[], sessions: readonly { sessionId: string }[], causeBytes: number): number {
  let n = 1024 + causeBytes;
  for (const e of next) n += entryBytes(e) * 2 + causeBytes;
  for (const e of prev) n += 200 + e.perm.action.length + e.perm.resource.length * 2 + causeBytes;
  for (const s of sessions) n += s.sessionId.length + 3;
  return n;
}
