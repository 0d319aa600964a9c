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

/** UTF-8 bytes of `s` written as a JSON string by JSON.stringify: quotes, escapes and multi-byte characters counted. */
export function jsonStringBytes(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) n += 2;
    else if (c < 0x20) n += 6;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      n += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) n += 6;
    else n += 3;
  }
  return n;
}

/** JSON bytes of one scope permission, an upper bound. */
function entryBytes(e: ScopeEntry): number {
  // {"action":,"resource":,"access":"admin","validUntil":"2026-12-06T00:00:00.000Z","grants":[],"sessions":[]}
  let n = 110 + e.perm.jsonBytes;
  // Ids are printable ASCII: at most a quote or backslash escape each.
  for (const g of e.grants) n += g.length * 2 + 3;
  if (e.sessions) for (const x of e.sessions) n += x.length * 2 + 3;
  return n;
}

/** Bytes of a delta entry (`added` / `removed`) without its cause. */
const deltaBytes = (e: ScopeEntry): number => 100 + e.perm.jsonBytes;

/**
 * An upper bound of the size of the scope change that moves an identity from `prev` to `next`: the
 * full scope (`permissions`), the added and removed deltas with their causes, and the sessions.
 * Resource names are counted twice to cover JSON escapes of unusual characters. `causeBytes` bounds
 * one cause of an added permission (event id, type, actor), `removedCauseBytes` one of a removed
 * permission (which also lists the policies and orders that removed it).
 */
export function estimateCommandBytes(prev: readonly ScopeEntry[], next: readonly ScopeEntry[], sessions: readonly { sessionId: string }[], causeBytes: number, removedCauseBytes: number): number {
  let n = 1024 + removedCauseBytes;
  const held = new Set<string>();
  for (const e of prev) held.add(e.perm.key);
  const kept = new Set<string>();
  for (const e of next) {
    n += entryBytes(e);
    if (held.has(e.perm.key)) kept.add(e.perm.key);
    else n += deltaBytes(e) + causeBytes;
  }
  for (const e of prev) if (!kept.has(e.perm.key)) n += deltaBytes(e) + removedCauseBytes;
  for (const s of sessions) n += s.sessionId.length * 2 + 3;
  return n;
}
