import type { Revocation, ScopeChange, ScopeSnapshot } from '@livescope/contracts';

/**
 * The enforcement point's local view, kept pure so that `authorize()` is a few map lookups.
 * Permissions are held as action → resource → validUntil (epoch ms, Infinity for none), so a
 * decision needs no string building and expires locally at the absolute instant even when the
 * pipeline is silent.
 */
export interface IdentityView {
  version: number;
  status: 'active' | 'disabled' | 'deleted';
  perms: Map<string, Map<string, number>>;
  sessions: Set<string>;
  /** Partition of the identity (for staleness), computed once. */
  partition: number;
}

export type DecisionCode = 'allowed' | 'unknown-identity' | 'inactive-identity' | 'session-not-active' | 'not-in-scope' | 'expired' | 'stale';

export interface Decision {
  readonly allowed: boolean;
  readonly code: DecisionCode;
  readonly reason: string;
  /** Version of the scope the decision was made on (0 when unknown). */
  readonly version: number;
}

export interface AuthorizeOptions {
  /** Whether a decision needs a live session (true by default). */
  readonly requireSession: boolean;
  readonly sensitive: (action: string) => boolean;
  readonly maxStalenessMs: number;
}

export type ApplyOutcome = 'applied' | 'stale-version' | 'duplicate';

export class EnforcerState {
  readonly identities = new Map<string, IdentityView>();
  /** Last heartbeat (epoch ms) per events partition. */
  readonly heartbeats = new Map<number, number>();
  private readonly revokedSessions = new Set<string>();
  private readonly revokedOrder: string[] = [];

  constructor(
    private readonly partitionOf: (identityId: string) => number,
    private readonly maxRevokedSessions = 100_000,
  ) {}

  /** Applies a scope change or snapshot if it is newer than what is held. */
  applyScope(c: ScopeChange | ScopeSnapshot): ApplyOutcome {
    const held = this.identities.get(c.identityId);
    if (held && c.version < held.version) return 'stale-version';
    if (held && c.version === held.version) return 'duplicate';
    const perms = new Map<string, Map<string, number>>();
    for (const p of c.permissions) {
      let byResource = perms.get(p.action);
      if (!byResource) perms.set(p.action, (byResource = new Map<string, number>()));
      byResource.set(p.resource, p.validUntil === null ? Number.POSITIVE_INFINITY : Date.parse(p.validUntil));
    }
    const sessions = new Set<string>();
    for (const s of c.sessions) if (!this.revokedSessions.has(s)) sessions.add(s);
    this.identities.set(c.identityId, { version: c.version, status: c.status, perms, sessions, partition: held?.partition ?? this.partitionOf(c.identityId) });
    return 'applied';
  }

  /** A revoked session is refused at once, even before the scope change that removes it arrives. */
  applyRevocation(r: Revocation): void {
    if (r.target.type !== 'session') return;
    const id = r.target.id;
    this.identities.get(r.identityId)?.sessions.delete(id);
    if (this.revokedSessions.has(id)) return;
    this.revokedSessions.add(id);
    this.revokedOrder.push(id);
    if (this.revokedOrder.length > this.maxRevokedSessions) this.revokedSessions.delete(this.revokedOrder.shift()!);
  }

  heartbeat(partition: number, atMs: number): void {
    if ((this.heartbeats.get(partition) ?? 0) < atMs) this.heartbeats.set(partition, atMs);
  }

  authorize(identityId: string, sessionId: string | undefined, action: string, resource: string, nowMs: number, o: AuthorizeOptions): Decision {
    const v = this.identities.get(identityId);
    if (!v) return { allowed: false, code: 'unknown-identity', reason: `no scope is known for ${identityId}`, version: 0 };
    if (v.status !== 'active') return { allowed: false, code: 'inactive-identity', reason: `identity is ${v.status}`, version: v.version };
    if (sessionId === undefined ? o.requireSession : !v.sessions.has(sessionId)) {
      return { allowed: false, code: 'session-not-active', reason: sessionId === undefined ? 'a session is required' : `session ${sessionId} is not active`, version: v.version };
    }
    const until = v.perms.get(action)?.get(resource);
    if (until === undefined) return new ScopeDecision(false, 'not-in-scope', v.version, action, resource, 0);
    if (until <= nowMs) return new ScopeDecision(false, 'expired', v.version, action, resource, until);
    if (o.sensitive(action)) {
      const last = this.heartbeats.get(v.partition) ?? 0;
      if (nowMs - last > o.maxStalenessMs) {
        return { allowed: false, code: 'stale', reason: `fail-closed: nothing heard from the pipeline for partition ${v.partition} for ${last === 0 ? 'ever' : `${nowMs - last} ms`} (max ${o.maxStalenessMs} ms) and ${action} is sensitive`, version: v.version };
      }
    }
    return new ScopeDecision(true, 'allowed', v.version, action, resource, until);
  }
}

/**
 * The decisions `authorize()` makes most (allowed, not in scope, expired), with the reason written
 * only when someone reads it: building it (and an ISO date) on every call cost more than the
 * decision itself. Serialises like a plain Decision.
 */
class ScopeDecision implements Decision {
  constructor(
    readonly allowed: boolean,
    readonly code: 'allowed' | 'not-in-scope' | 'expired',
    readonly version: number,
    private readonly action: string,
    private readonly resource: string,
    private readonly until: number,
  ) {}

  get reason(): string {
    if (this.code === 'allowed') return `in scope at version ${this.version}${this.until === Number.POSITIVE_INFINITY ? '' : ` until ${new Date(this.until).toISOString()}`}`;
    if (this.code === 'expired') return `${this.action} on ${this.resource} expired at ${new Date(this.until).toISOString()}`;
    return `${this.action} on ${this.resource} is not in the runtime scope (version ${this.version})`;
  }

  toJSON(): Decision {
    return { allowed: this.allowed, code: this.code, reason: this.reason, version: this.version };
  }
}
