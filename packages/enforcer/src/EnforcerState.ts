import type { Revocation, ScopeChange, ScopeSnapshot } from '@livescope/contracts';
import { foldHeartbeat, type PartitionLiveness } from './PartitionLiveness.js';
import { PermissionIds } from './PermissionIds.js';

/**
 * The enforcement point's local view, kept pure so that `authorize()` is a few lookups. Permissions
 * are held as (interned pair id, validUntil) in one flat array per identity (validUntil in epoch ms,
 * Infinity for none), so a decision needs no string building, reads one array of the identity for
 * its permission, and expires locally at the absolute instant even when the pipeline is silent.
 */
export interface IdentityView {
  version: number;
  status: 'active' | 'disabled' | 'deleted';
  /**
   * The permissions that hold in any live session of the identity, flat: pair id (`PermissionIds`),
   * validUntil, pair id, validUntil, … by ascending id (read with `untilIn`; by name with
   * `EnforcerState.permissionsOf`). One array instead of a map of maps: one cache miss per decision
   * instead of two, and a third of the memory.
   */
  readonly perms: readonly number[];
  /**
   * pair id → validUntil and sessions, for the permissions that hold only in some sessions (an
   * approval given for a session, a just-in-time grant bound to its task session); undefined when
   * none is bound (the common case). Read only for a permission not in `perms`.
   */
  readonly bound: ReadonlyMap<number, BoundPermission> | undefined;
  sessions: Set<string>;
  /**
   * The live session when there is exactly one (the common case: compared instead of looked up in
   * `sessions`), null when there is none, undefined when there are several. Kept by `EnforcerState`.
   */
  onlySession: string | null | undefined;
  /** Partition of the identity (for staleness), computed once. */
  partition: number;
  /** Highest version seen on the snapshot topic (rollback detection, kept by CommandProcessor). */
  maxSnapshot: number;
  /** Highest version seen on the changes topic. */
  maxChange: number;
  /**
   * The version every command written after this enforcement point started must reach: the highest
   * of the snapshots it read below its start position and of its high-water file.
   */
  floor: number;
  /**
   * The decision on a permission without validUntil, made at most once per version: every such
   * decision of a version says the same, so the common decision allocates nothing.
   */
  allowedForever: Decision | undefined;
}

/** A permission by name, as `EnforcerState.permissionsOf` lists them. */
export interface HeldPermission {
  readonly action: string;
  readonly resource: string;
  /** Epoch ms; Infinity for none. */
  readonly until: number;
  /** The sessions it is bound to; undefined when it holds in every session. */
  readonly sessions: ReadonlySet<string> | undefined;
}

/** A permission that holds only in some sessions. */
export interface BoundPermission {
  /** Epoch ms; Infinity for none. */
  until: number;
  readonly sessions: Set<string>;
}

export type DecisionCode = 'allowed' | 'unknown-identity' | 'inactive-identity' | 'session-not-active' | 'session-not-bound' | 'not-in-scope' | 'expired' | 'stale';

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
  /** What the heartbeats say per partition of the events topic. */
  readonly liveness = new Map<number, PartitionLiveness>();
  /**
   * Identities this enforcement point applied a higher version of before it restarted (its
   * high-water file) than it holds now: identity → that version. Every action of theirs is denied
   * (`stale`) until a command at or above it is applied; nothing older is applied meanwhile.
   */
  readonly behind = new Map<string, number>();
  /**
   * Set while this instance may not see every command (its consumer group is shared with another
   * instance, or its consumer stopped): sensitive actions fail closed with this reason.
   */
  degraded: string | undefined;
  /** The (action, resource) pairs the identities held hold, interned. */
  readonly permissionIds = new PermissionIds();
  private readonly revokedSessions = new Set<string>();
  private readonly revokedOrder: string[] = [];

  constructor(
    private readonly partitionOf: (identityId: string) => number,
    private readonly maxRevokedSessions = 100_000,
  ) {}

  /** Applies a scope change or snapshot if it is newer than what is held (and not below a recorded high-water version). */
  applyScope(c: ScopeChange | ScopeSnapshot): ApplyOutcome {
    const held = this.identities.get(c.identityId);
    if (held && c.version < held.version) return 'stale-version';
    if (held && c.version === held.version) return 'duplicate';
    const highWater = this.behind.get(c.identityId);
    if (highWater !== undefined) {
      if (c.version < highWater) return 'stale-version';
      this.behind.delete(c.identityId);
    }
    // Built by name first (duplicates merged), then flattened to interned ids.
    const perms = new Map<string, Map<string, number>>();
    let anyBound = false;
    for (const p of c.permissions) {
      if (p.sessions !== undefined) {
        anyBound = true;
        continue;
      }
      let byResource = perms.get(p.action);
      if (!byResource) perms.set(p.action, (byResource = new Map<string, number>()));
      const until = untilOf(p.validUntil);
      const before = byResource.get(p.resource);
      byResource.set(p.resource, before === undefined || until > before ? until : before);
    }
    // Session-bound permissions are rare: held apart, and read only when a permission is not among
    // the unbound ones, so they cost the common decision nothing. A permission listed both bound and
    // unbound (two grants) holds in every session.
    let bound: Map<string, Map<string, BoundPermission>> | undefined;
    if (anyBound) {
      for (const p of c.permissions) {
        if (p.sessions === undefined || perms.get(p.action)?.has(p.resource) === true) continue;
        bound ??= new Map<string, Map<string, BoundPermission>>();
        let byResource = bound.get(p.action);
        if (!byResource) bound.set(p.action, (byResource = new Map<string, BoundPermission>()));
        const until = untilOf(p.validUntil);
        const held = byResource.get(p.resource);
        if (!held) byResource.set(p.resource, { until, sessions: new Set<string>(p.sessions) });
        else {
          if (until > held.until) held.until = until;
          for (const s of p.sessions) held.sessions.add(s);
        }
      }
    }
    const sessions = new Set<string>();
    for (const s of c.sessions) if (!this.revokedSessions.has(s)) sessions.add(s);
    // The new ids are taken before the old ones are let go, so pairs held before and after keep their id.
    const ids = this.permissionIds;
    const flat: [number, number][] = [];
    for (const [action, byResource] of perms) for (const [resource, until] of byResource) flat.push([ids.acquire(action, resource), until]);
    flat.sort((a, b) => a[0] - b[0]);
    const permsById: number[] = [];
    for (const [id, until] of flat) permsById.push(id, until);
    let boundById: Map<number, BoundPermission> | undefined;
    if (bound !== undefined) {
      boundById = new Map<number, BoundPermission>();
      for (const [action, byResource] of bound) for (const [resource, b] of byResource) boundById.set(ids.acquire(action, resource), b);
    }
    if (held) this.releaseIds(held);
    this.identities.set(c.identityId, {
      version: c.version,
      status: c.status,
      perms: permsById,
      bound: boundById,
      sessions,
      onlySession: onlySessionOf(sessions),
      partition: held?.partition ?? this.partitionOf(c.identityId),
      maxSnapshot: held?.maxSnapshot ?? 0,
      maxChange: held?.maxChange ?? 0,
      floor: held?.floor ?? highWater ?? 0,
      allowedForever: undefined,
    });
    return 'applied';
  }

  private releaseIds(v: IdentityView): void {
    for (let i = 0; i < v.perms.length; i += 2) this.permissionIds.release(v.perms[i]!);
    if (v.bound !== undefined) for (const id of v.bound.keys()) this.permissionIds.release(id);
  }

  /** The permissions of `v` by name (for views of the scope; `authorize()` reads the interned form). */
  permissionsOf(v: IdentityView): HeldPermission[] {
    const ids = this.permissionIds;
    const out: HeldPermission[] = [];
    for (let i = 0; i < v.perms.length; i += 2) out.push({ action: ids.action(v.perms[i]!), resource: ids.resource(v.perms[i]!), until: v.perms[i + 1]!, sessions: undefined });
    if (v.bound !== undefined) for (const [id, b] of v.bound) out.push({ action: ids.action(id), resource: ids.resource(id), until: b.until, sessions: b.sessions });
    return out;
  }

  /** A revoked session is refused at once, even before the scope change that removes it arrives. */
  applyRevocation(r: Revocation): void {
    if (r.target.type !== 'session') return;
    const id = r.target.id;
    const v = this.identities.get(r.identityId);
    if (v?.sessions.delete(id) === true) v.onlySession = onlySessionOf(v.sessions);
    if (this.revokedSessions.has(id)) return;
    this.revokedSessions.add(id);
    this.revokedOrder.push(id);
    if (this.revokedOrder.length > this.maxRevokedSessions) this.revokedSessions.delete(this.revokedOrder.shift()!);
  }

  /**
   * Folds a heartbeat of `partition` sent at `atMs` (the worker's clock). `nextOffset` and
   * `logEndOffset` tell progress from mere liveness; heartbeats of older workers have neither, and
   * then only silence makes the partition stale. Returns false for a heartbeat older than the latest.
   */
  heartbeat(partition: number, atMs: number, nextOffset?: bigint, logEndOffset?: bigint): boolean {
    const folded = foldHeartbeat(this.liveness.get(partition), atMs, nextOffset, logEndOffset);
    if (folded === false) return false;
    this.liveness.set(partition, folded);
    return true;
  }

  /** Why sensitive actions on `partition` fail closed at `nowMs`, or undefined when they do not. */
  staleness(partition: number, nowMs: number, maxStalenessMs: number): string | undefined {
    if (this.degraded !== undefined) return this.degraded;
    const p = this.liveness.get(partition);
    if (p === undefined) return `nothing heard from the pipeline for partition ${partition} ever`;
    if (nowMs - p.heartbeatAt > maxStalenessMs) return `nothing heard from the pipeline for partition ${partition} for ${nowMs - p.heartbeatAt} ms (max ${maxStalenessMs} ms)`;
    if (p.waiting && nowMs - p.progressAt > maxStalenessMs) {
      const next = p.nextOffset ?? 0n;
      return `partition ${partition} has not advanced past offset ${next} for ${nowMs - p.progressAt} ms while ${(p.logEndOffset ?? next) - next} messages wait (max ${maxStalenessMs} ms)`;
    }
    return undefined;
  }

  authorize(identityId: string, sessionId: string | undefined, action: string, resource: string, nowMs: number, o: AuthorizeOptions): Decision {
    const v = this.identities.get(identityId);
    if (!v) {
      const highWater = this.behind.size === 0 ? undefined : this.behind.get(identityId);
      if (highWater !== undefined) return { allowed: false, code: 'stale', reason: `fail-closed: the scope of ${identityId} is behind: version ${highWater} was applied here before a restart and no command at or above it has arrived since`, version: 0 };
      return { allowed: false, code: 'unknown-identity', reason: `no scope is known for ${identityId}`, version: 0 };
    }
    if (v.status !== 'active') return { allowed: false, code: 'inactive-identity', reason: `identity is ${v.status}`, version: v.version };
    if (sessionId === undefined ? o.requireSession : v.onlySession === undefined ? !v.sessions.has(sessionId) : sessionId !== v.onlySession) {
      return { allowed: false, code: 'session-not-active', reason: sessionId === undefined ? 'a session is required' : `session ${sessionId} is not active`, version: v.version };
    }
    // A pair no identity holds is in no one's scope: the identity's permissions are not even read.
    const id = this.permissionIds.get(action, resource);
    const until = id === undefined ? undefined : untilIn(v.perms, id);
    if (until === undefined) return v.bound === undefined || id === undefined ? new ScopeDecision(false, 'not-in-scope', v.version, action, resource, 0, undefined) : this.authorizeBound(v, v.bound, id, sessionId, action, resource, nowMs, o);
    return this.inScope(v, action, resource, until, nowMs, o);
  }

  /** The end of a decision on a permission in scope: expiry, then staleness for sensitive actions. */
  private inScope(v: IdentityView, action: string, resource: string, until: number, nowMs: number, o: AuthorizeOptions): Decision {
    if (until <= nowMs) return new ScopeDecision(false, 'expired', v.version, action, resource, until, undefined);
    if (o.sensitive(action)) {
      const why = this.staleness(v.partition, nowMs, o.maxStalenessMs);
      if (why !== undefined) return { allowed: false, code: 'stale', reason: `fail-closed: ${why}, and ${action} is sensitive`, version: v.version };
    }
    if (until === Number.POSITIVE_INFINITY) return (v.allowedForever ??= new ScopeDecision(true, 'allowed', v.version, '', '', until, undefined));
    return new ScopeDecision(true, 'allowed', v.version, action, resource, until, undefined);
  }

  /** A permission not held in every session: in scope only in the sessions it is bound to (kept out of the common path). */
  private authorizeBound(v: IdentityView, bound: ReadonlyMap<number, BoundPermission>, id: number, sessionId: string | undefined, action: string, resource: string, nowMs: number, o: AuthorizeOptions): Decision {
    const b = bound.get(id);
    if (b === undefined) return new ScopeDecision(false, 'not-in-scope', v.version, action, resource, 0, undefined);
    if (sessionId === undefined || !b.sessions.has(sessionId)) return new ScopeDecision(false, 'session-not-bound', v.version, action, resource, b.until, { sessionId, only: b.sessions });
    return this.inScope(v, action, resource, b.until, nowMs, o);
  }
}

/** validUntil of pair `id` in a flat permission array (`IdentityView.perms`), undefined when not held. */
export function untilIn(perms: readonly number[], id: number): number | undefined {
  const pairs = perms.length >> 1;
  if (pairs <= 16) {
    // Most identities hold a few permissions: a scan of adjacent numbers beats a search.
    for (let i = 0; i < perms.length; i += 2) {
      const k = perms[i]!;
      if (k >= id) return k === id ? perms[i + 1] : undefined;
    }
    return undefined;
  }
  let lo = 0;
  let hi = pairs;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = perms[mid * 2]!;
    if (k === id) return perms[mid * 2 + 1];
    if (k < id) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

function onlySessionOf(sessions: ReadonlySet<string>): string | null | undefined {
  if (sessions.size === 0) return null;
  if (sessions.size > 1) return undefined;
  for (const s of sessions) return s;
  return undefined;
}

function untilOf(validUntil: string | null): number {
  return validUntil === null ? Number.POSITIVE_INFINITY : Date.parse(validUntil);
}

/**
 * The decisions `authorize()` makes most (allowed, not in scope, expired, not bound), with the
 * reason written only when someone reads it: building it (and an ISO date) on every call cost more
 * than the decision itself. Serialises like a plain Decision.
 */
class ScopeDecision implements Decision {
  constructor(
    readonly allowed: boolean,
    readonly code: 'allowed' | 'not-in-scope' | 'expired' | 'session-not-bound',
    readonly version: number,
    private readonly action: string,
    private readonly resource: string,
    private readonly until: number,
    private readonly binding: { readonly sessionId: string | undefined; readonly only: ReadonlySet<string> } | undefined,
  ) {}

  get reason(): string {
    if (this.code === 'allowed') return `in scope at version ${this.version}${this.until === Number.POSITIVE_INFINITY ? '' : ` until ${new Date(this.until).toISOString()}`}`;
    if (this.code === 'expired') return `${this.action} on ${this.resource} expired at ${new Date(this.until).toISOString()}`;
    if (this.code === 'session-not-bound') {
      const only = [...this.binding!.only].slice(0, 8).join(', ');
      return `${this.action} on ${this.resource} holds only in session${this.binding!.only.size > 1 ? 's' : ''} ${only}${this.binding!.only.size > 8 ? ', …' : ''} (version ${this.version}), ${this.binding!.sessionId === undefined ? 'and no session was given' : `not in session ${this.binding!.sessionId}`}`;
    }
    return `${this.action} on ${this.resource} is not in the runtime scope (version ${this.version})`;
  }

  toJSON(): Decision {
    return { allowed: this.allowed, code: this.code, reason: this.reason, version: this.version };
  }
}
