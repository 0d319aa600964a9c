import {
  isBroadcastEvent,
  type BroadcastEvent,
  type Cause,
  type IdentityEvent,
  type IdentityId,
  type LivescopeEvent,
  type PermissionDelta,
  type ScopeChange,
  type ScopePermission,
  type ScopeSnapshot,
} from '@livescope/contracts';
import { computeScope, type ScopeResult } from './computeScope.js';
import { defaultEngineConfig, type EngineConfig } from './EngineConfig.js';
import type { EngineOutput, HandleResult } from './EngineOutput.js';
import { endSession, evolveIdentity, leaseRevocations, revokeEverything, toMs, type AlertIntent, type RevocationIntent } from './evolveIdentity.js';
import { emptyGlobals, type ActiveOrder, type Globals } from './Globals.js';
import { idHash, ring } from './idHash.js';
import { IdentityIndex } from './IdentityIndex.js';
import { NONE, type IdentityState, type ScopeEntry } from './IdentityState.js';
import { PermInterner } from './PermInterner.js';
import { permitAllPolicy, PolicyInput, type ScopePolicy } from './ScopePolicy.js';
import { selectorTerms, targetMatches } from './selectors.js';
import { TimerHeap } from './TimerHeap.js';

/** Compiles a published policy set. Throws (with a readable message) when the set is invalid. */
export type PolicyCompiler = (files: readonly { id: string; text: string }[], version: number) => ScopePolicy;
/** Verifies the signature of a release window. */
export type ReleaseWindowVerifier = (window: Extract<BroadcastEvent, { type: 'org.release-window' }>['data']) => boolean;

export interface EngineDeps {
  readonly config?: Partial<EngineConfig>;
  readonly compilePolicies: PolicyCompiler;
  readonly verifyReleaseWindow: ReleaseWindowVerifier;
}

export interface PublishedPolicies {
  readonly version: number;
  readonly files: readonly { id: string; text: string }[];
}

export interface MessageMeta {
  /** Kafka timestamp of the message (epoch ms): the processing instant, deterministic on replay. */
  readonly timestampMs: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_TIMER_STEPS = 64;

/**
 * The runtime-scope engine of one partition. Deterministic and free of I/O: it is a function of
 * the sequence of events (with their message timestamps) and of timer firings, which happen at
 * the instants the engine itself computed. The worker shell persists `dirty()` states and
 * publishes the outputs.
 */
export class ScopeEngine {
  readonly config: EngineConfig;
  private readonly identities = new Map<string, IdentityState>();
  private readonly index = new IdentityIndex(() => this.identities.keys());
  private readonly timers = new TimerHeap();
  private readonly interner = new PermInterner();
  private readonly dirtyIds = new Set<string>();
  private globalsDirty = false;
  private globalsState: Globals = emptyGlobals();
  private policyState: ScopePolicy = permitAllPolicy;
  private published: PublishedPolicies | undefined;

  constructor(private readonly deps: EngineDeps) {
    this.config = { ...defaultEngineConfig, ...deps.config };
  }

  // --- state access (worker shell, control plane, tests) ----------------------------------------
  get globals(): Globals {
    return this.globalsState;
  }
  get policy(): ScopePolicy {
    return this.policyState;
  }
  get publishedPolicies(): PublishedPolicies | undefined {
    return this.published;
  }
  get size(): number {
    return this.identities.size;
  }
  get permInterner(): PermInterner {
    return this.interner;
  }
  identity(id: string): IdentityState | undefined {
    return this.identities.get(id);
  }
  allIdentities(): IterableIterator<IdentityState> {
    return this.identities.values();
  }
  /** Earliest instant a timer is due, if any. */
  nextWakeAt(): number | undefined {
    while (this.timers.size > 0) {
      const at = this.timers.peek()!;
      // Skip stale entries lazily so the caller sleeps until a real deadline.
      const top = this.timers.pop()!;
      const s = this.identities.get(top.id);
      if (s && s.wakeAt === top.at) {
        this.timers.push(top.at, top.id);
        return at;
      }
    }
    return undefined;
  }

  /** Identities and globals changed since the last call, then forgets them. */
  drainDirty(): { identities: IdentityState[]; globals: Globals | undefined; policies: PublishedPolicies | undefined } {
    const identities: IdentityState[] = [];
    for (const id of this.dirtyIds) {
      const s = this.identities.get(id);
      if (s) identities.push(s);
    }
    this.dirtyIds.clear();
    const globals = this.globalsDirty ? this.globalsState : undefined;
    const policies = this.globalsDirty ? this.published : undefined;
    this.globalsDirty = false;
    return { identities, globals, policies };
  }

  /** Loads persisted state (after a restart or a partition assignment); rebuilds indexes and timers. */
  load(state: { identities: Iterable<IdentityState>; globals?: Globals; policies?: PublishedPolicies }): void {
    if (state.policies) {
      this.policyState = this.deps.compilePolicies(state.policies.files, state.policies.version);
      this.published = state.policies;
    }
    if (state.globals) this.globalsState = state.globals;
    for (const s of state.identities) this.put(s, false);
  }

  // --- input ---------------------------------------------------------------------------------
  handle(event: LivescopeEvent, meta: MessageMeta, out: EngineOutput): HandleResult {
    const eventMs = toMs(event.time);
    if (eventMs > meta.timestampMs + this.config.maxFutureSkewMs) {
      return { status: 'rejected', reason: 'timestamp-in-future', message: `event time ${event.time} is more than ${this.config.maxFutureSkewMs} ms after the message timestamp ${iso(meta.timestampMs)}` };
    }
    return isBroadcastEvent(event) ? this.handleBroadcast(event, meta, out) : this.handleIdentityEvent(event, meta, out, eventMs);
  }

  /** Fires every timer due at or before `nowMs`, each at its own instant. */
  tick(nowMs: number, out: EngineOutput): number {
    let fired = 0;
    while (this.timers.size > 0 && this.timers.peek()! <= nowMs) {
      const { at, id } = this.timers.pop()!;
      const s = this.identities.get(id);
      if (!s || s.wakeAt !== at) continue;
      this.advance(s, at, out);
      fired++;
    }
    return fired;
  }

  private handleIdentityEvent(event: IdentityEvent, meta: MessageMeta, out: EngineOutput, eventMs: number): HandleResult {
    let prev = this.identities.get(event.subject);
    const eventHash = idHash(event.id);
    if (prev?.recentEventIds.includes(eventHash)) return { status: 'duplicate' };
    const t = Math.max(prev?.clock ?? 0, meta.timestampMs);
    if (prev) prev = this.advance(prev, t, out);
    const tr = evolveIdentity(prev, event, t, this.config, this.interner, eventMs);
    if (tr.reject) return { status: 'rejected', ...tr.reject };
    // A no-op is not remembered for duplicate detection: repeating it is a no-op too, and it costs no state write.
    if (tr.state === prev && tr.alerts.length === 0 && tr.revocations.length === 0) return { status: 'unchanged' };
    const cause: Cause = { eventId: event.id, eventType: event.type };
    let next: IdentityState = { ...tr.state, clock: t, recentEventIds: ring(tr.state.recentEventIds, eventHash, this.config.dedupeWindow) };
    const recompute = tr.recompute === true || (tr.recompute !== false && this.policyState.reads(tr.recompute));
    next = this.settle(prev, next, t, cause, recompute, out);
    this.emitRevocations(next, tr.revocations, event.id, t, cause, out);
    this.emitAlerts(next, tr.alerts, event.id, t, cause, out);
    return { status: 'applied', identities: 1 };
  }

  /**
   * Brings an identity to instant `t`: fires its due timers in order (each at its own instant),
   * so that an identity's history is the same whether a timer fired before an event or the event
   * arrived first.
   */
  private advance(state: IdentityState, t: number, out: EngineOutput): IdentityState {
    let s = state;
    for (let steps = 0; s.wakeAt !== null && s.wakeAt <= t && steps < MAX_TIMER_STEPS; steps++) {
      const at = s.wakeAt;
      const cause: Cause = { timer: true };
      const { state: pruned, revocations } = this.expire(s, at);
      const review = this.excessPrivilege(pruned, at);
      const tag = `timer-${at}`;
      s = this.settle(s, { ...review.state, clock: Math.max(pruned.clock, at) }, at, cause, true, out);
      this.emitRevocations(s, revocations, tag, at, cause, out);
      this.emitAlerts(s, review.alerts, tag, at, cause, out);
    }
    return s;
  }

  /** Drops what expired at `t`; a just-in-time grant bound to a session ends that session (revoked). */
  private expire(s: IdentityState, t: number): { state: IdentityState; revocations: RevocationIntent[] } {
    let state = s;
    const revocations: RevocationIntent[] = [];
    for (const g of s.jit) {
      if (g.expiresAt > t) continue;
      if (g.sessionId !== undefined && state.sessions.some((x) => x.sessionId === g.sessionId)) {
        const ended = endSession(state, g.sessionId, `just-in-time grant ${g.grantId} expired`, true, this.config);
        state = ended.state;
        revocations.push(...ended.revocations);
      }
    }
    const live = <T extends { expiresAt?: number | undefined }>(xs: readonly T[]): readonly T[] => (xs.some((x) => x.expiresAt !== undefined && x.expiresAt <= t) ? xs.filter((x) => x.expiresAt === undefined || x.expiresAt > t) : xs);
    const jit = live(state.jit);
    const sessions = live(state.sessions);
    const approvals = live(state.approvals);
    const anomalies = live(state.anomalies);
    const leases = live(state.leases);
    if (jit !== state.jit || sessions !== state.sessions || approvals !== state.approvals || anomalies !== state.anomalies || leases !== state.leases) {
      state = { ...state, jit, sessions, approvals, anomalies, leases };
    }
    return { state, revocations };
  }

  /** Permissions unused for the whole window are reported once per idle period. */
  private excessPrivilege(s: IdentityState, t: number): { state: IdentityState; alerts: AlertIntent[] } {
    if (s.status !== 'active') return { state: s, alerts: [] };
    const alerts: AlertIntent[] = [];
    const reported: string[] = [];
    for (const g of s.grants) {
      for (const p of g.perms) {
        if (s.excessReported.includes(p.key) || reported.includes(p.key)) continue;
        const since = Math.max(s.lastUsed[p.key] ?? 0, g.at);
        if (t - since >= this.config.excessPrivilegeWindowMs) {
          reported.push(p.key);
          alerts.push({
            type: 'excess-privilege',
            severity: 'low',
            summary: `${s.id} has not used ${p.action} on ${p.resource} for ${Math.round((t - since) / 86_400_000)} days`,
            details: { action: p.action, resource: p.resource, grantId: g.grantId, role: g.role, unusedSince: iso(since) },
          });
        }
      }
    }
    return reported.length > 0 ? { state: { ...s, excessReported: [...s.excessReported, ...reported] }, alerts } : { state: s, alerts };
  }

  /** Next excess-privilege review instant: when the oldest unused provisioned permission crosses the window. */
  private nextReview(s: IdentityState): number | null {
    if (s.status !== 'active') return null;
    let min: number | null = null;
    for (const g of s.grants) {
      for (const p of g.perms) {
        if (s.excessReported.includes(p.key)) continue;
        const at = Math.max(s.lastUsed[p.key] ?? 0, g.at) + this.config.excessPrivilegeWindowMs;
        if (min === null || at < min) min = at;
      }
    }
    return min;
  }

  /**
   * Recomputes (when asked) and stores the identity, emitting a versioned change and snapshot when
   * its permissions, sessions or status changed.
   */
  private settle(prev: IdentityState | undefined, next: IdentityState, t: number, cause: Cause, recompute: boolean, out: EngineOutput): IdentityState {
    let result: ScopeResult | undefined;
    let scope = next.scope;
    let wakeAt = next.wakeAt;
    if (recompute) {
      result = computeScope(next, this.globalsState, this.policyState, t, this.config);
      scope = result.entries;
      wakeAt = result.wakeAt;
    }
    const review = this.nextReview(next);
    if (review !== null && (wakeAt === null || review < wakeAt)) wakeAt = review;
    if (wakeAt !== null && wakeAt <= t) wakeAt = null; // defensive: a wake-up must lie in the future
    const unchangedScope = sameScope(prev?.scope ?? [], scope);
    // Keep the held entries when the recompute found the same ones: less to retain and to collect.
    if (unchangedScope && prev !== undefined && scope !== prev.scope && samePerms(prev.scope, scope)) scope = prev.scope;
    const changed = !unchangedScope || !sameSessions(prev, next) || prev?.status !== next.status;
    const emit = changed && (prev !== undefined || scope.length > 0 || next.sessions.length > 0);
    const version = emit ? (prev?.version ?? 0) + 1 : prev === undefined ? 0 : next.version;
    const stored: IdentityState = keepLists({ ...next, scope, wakeAt, version }, prev);
    if (emit) this.emitChange(prev, stored, result, t, cause, out);
    this.put(stored, true);
    return stored;
  }

  private put(s: IdentityState, dirty: boolean): void {
    const before = this.identities.get(s.id);
    this.identities.set(s.id, s);
    this.index.update(s, before);
    if (s.wakeAt !== null && (s.wakeAt !== before?.wakeAt || !before)) {
      this.timers.push(s.wakeAt, s.id);
      // Superseded entries are skipped lazily; rebuild when they outnumber the live ones, so a
      // long-running worker does not accumulate one entry per change of a far wake-up (7-day reviews).
      if (this.timers.size > 2 * this.identities.size + 1024) this.rebuildTimers();
    }
    if (dirty) this.dirtyIds.add(s.id);
  }

  private rebuildTimers(): void {
    this.timers.clear();
    for (const x of this.identities.values()) if (x.wakeAt !== null) this.timers.push(x.wakeAt, x.id);
  }

  private emitChange(prev: IdentityState | undefined, next: IdentityState, result: ScopeResult | undefined, t: number, cause: Cause, out: EngineOutput): void {
    const before = new Map((prev?.scope ?? []).map((e) => [e.perm.key, e]));
    const after = new Map(next.scope.map((e) => [e.perm.key, e]));
    const added: PermissionDelta[] = [];
    const removed: PermissionDelta[] = [];
    for (const [k, e] of after) {
      if (!before.has(k)) added.push({ action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : iso(e.validUntil), cause: { ...cause, policyIds: [] } });
    }
    for (const [k, e] of before) {
      if (after.has(k)) continue;
      const why = result?.excluded.get(k);
      removed.push({ action: e.perm.action, resource: e.perm.resource, access: e.perm.access, cause: { ...cause, policyIds: [...(why?.policyIds ?? [])], orderIds: [...(why?.orderIds ?? [])] } });
    }
    const direction: ScopeChange['direction'] = added.length && removed.length ? 'mixed' : added.length ? 'widening' : removed.length ? 'narrowing' : 'refresh';
    const permissions = next.scope.map(toScopePermission);
    const sessions = next.sessions.map((s) => s.sessionId) as ScopeChange['sessions'];
    const at = iso(t);
    const change: ScopeChange = {
      kind: 'scope.change',
      identityId: next.id,
      version: next.version,
      previousVersion: prev?.version ?? 0,
      at,
      status: next.status,
      permissions,
      sessions,
      direction,
      added,
      removed,
      // The event's own order (an issue or a lift) and the orders and policies that removed permissions.
      cause: { ...cause, policyIds: [...new Set([...(cause.policyIds ?? []), ...removed.flatMap((r) => r.cause.policyIds ?? [])])], orderIds: [...new Set([...(cause.orderIds ?? []), ...removed.flatMap((r) => r.cause.orderIds ?? [])])] },
    };
    out.changes.push(change);
    const snapshot: ScopeSnapshot = { kind: 'scope.snapshot', identityId: next.id, version: next.version, at, status: next.status, permissions, sessions };
    out.snapshots.push(snapshot);
    const widenedAdmin = added.filter((a) => a.access === 'admin');
    if (prev && prev.version > 0 && (added.length >= this.config.suddenWideningThreshold || widenedAdmin.length > 0) && cause.eventType !== 'order.lifted') {
      this.emitAlerts(
        next,
        [
          {
            type: 'sudden-widening',
            severity: widenedAdmin.length ? 'high' : 'medium',
            summary: `scope of ${next.id} widened by ${added.length} permission${added.length === 1 ? '' : 's'}${widenedAdmin.length ? ` (${widenedAdmin.length} admin)` : ''}`,
            details: { added: added.map((a) => ({ action: a.action, resource: a.resource, access: a.access })), version: next.version },
          },
        ],
        cause.eventId ?? `timer-${t}`,
        t,
        cause,
        out,
      );
    }
  }

  private emitRevocations(s: IdentityState, intents: readonly RevocationIntent[], tag: string, t: number, cause: Cause, out: EngineOutput): void {
    intents.forEach((r, i) => {
      out.revocations.push({ kind: 'revocation', revocationId: `${s.id}/${tag}/${i}`, identityId: s.id, version: Math.max(1, s.version), at: iso(t), target: r.target, reason: r.reason, cause });
    });
  }

  private emitAlerts(s: IdentityState, intents: readonly AlertIntent[], tag: string, t: number, cause: Cause, out: EngineOutput): void {
    for (const a of intents) {
      out.alerts.push({ kind: 'drift.alert', alertId: `${s.id}/${tag}/${a.type}`, type: a.type, severity: a.severity, identityId: s.id, at: iso(t), summary: a.summary, details: a.details, cause });
    }
  }

  // --- broadcast (org-wide) events -----------------------------------------------------------
  private handleBroadcast(event: BroadcastEvent, meta: MessageMeta, out: EngineOutput): HandleResult {
    const g = this.globalsState;
    if (g.recentEventIds.includes(event.id)) return { status: 'duplicate' };
    const cause: Cause = { eventId: event.id, eventType: event.type };
    const remember = (next: Partial<Globals>): void => {
      this.globalsState = { ...this.globalsState, ...next, recentEventIds: ring(this.globalsState.recentEventIds, event.id, 64) };
      this.globalsDirty = true;
    };
    switch (event.type) {
      case 'policies.published': {
        let compiled: ScopePolicy;
        try {
          compiled = this.deps.compilePolicies(event.data.policies, event.data.version);
        } catch (e) {
          return { status: 'rejected', reason: 'invalid-policy', message: (e as Error).message };
        }
        if (this.published && event.data.version <= this.published.version) return { status: 'duplicate' };
        const affected = this.policyAffected(this.policyState, compiled);
        this.policyState = compiled;
        this.published = { version: event.data.version, files: event.data.policies };
        remember({});
        return this.recomputeMany(affected, meta, { ...cause, actor: event.data.publishedBy }, out);
      }
      case 'org.release-window': {
        const d = event.data;
        if (g.lifted.includes(`window:${d.windowId}`)) return { status: 'unchanged' };
        if (!this.deps.verifyReleaseWindow(d)) return { status: 'rejected', reason: 'invalid-signature', message: `release window ${d.windowId} is not validly signed by ${d.signedBy}` };
        const windows = new Map(g.windows);
        windows.set(d.windowId, { windowId: d.windowId, namespace: d.namespace, startsAt: toMs(d.startsAt), endsAt: toMs(d.endsAt), signedBy: d.signedBy });
        remember({ windows });
        return this.policyState.reads(PolicyInput.releaseWindows) ? this.recomputeMany(this.index.lookupAny([`permns=${d.namespace}`]), meta, cause, out) : { status: 'applied', identities: 0 };
      }
      case 'org.release-window-cancelled': {
        const w = g.windows.get(event.data.windowId);
        const windows = new Map(g.windows);
        windows.delete(event.data.windowId);
        remember({ windows, lifted: ring(g.lifted, `window:${event.data.windowId}`, 256) });
        return w && this.policyState.reads(PolicyInput.releaseWindows) ? this.recomputeMany(this.index.lookupAny([`permns=${w.namespace}`]), meta, cause, out) : { status: 'applied', identities: 0 };
      }
      case 'org.incident-mode': {
        const d = event.data;
        const incidents = new Map(g.incidents);
        if (d.active) incidents.set(d.incidentId, { incidentId: d.incidentId, namespace: d.namespace });
        else incidents.delete(d.incidentId);
        remember({ incidents });
        return this.policyState.reads(PolicyInput.incidents) ? this.recomputeMany(this.index.lookupAny([`permns=${d.namespace}`]), meta, cause, out) : { status: 'applied', identities: 0 };
      }
      case 'order.issued':
        return this.issueOrder(event, meta, out);
      case 'order.lifted': {
        const order = g.orders.get(event.data.orderId);
        if (!order) {
          remember({ lifted: ring(g.lifted, `order:${event.data.orderId}`, 256) });
          return { status: 'unchanged' };
        }
        const orders = new Map(g.orders);
        orders.delete(order.orderId);
        remember({ orders, lifted: ring(g.lifted, `order:${order.orderId}`, 256) });
        return this.recomputeMany(this.targets(order.target), meta, { ...cause, orderIds: [order.orderId], actor: event.data.actor }, out);
      }
      case 'secret.leaked': {
        const path = event.data.secretPath;
        remember({});
        let n = 0;
        for (const id of this.index.lookupAny([`secret=${path}`])) {
          const s = this.identities.get(id);
          if (!s) continue;
          const leases = s.leases.filter((l) => l.secretPath === path);
          if (leases.length === 0) continue;
          const t = Math.max(s.clock, meta.timestampMs);
          const advanced = this.advance(s, t, out);
          const next = { ...advanced, leases: advanced.leases.filter((l) => l.secretPath !== path), clock: t };
          this.put(next, true);
          this.emitRevocations(next, leaseRevocations(leases, `secret ${path} leaked`), event.id, t, cause, out);
          this.emitAlerts(next, [{ type: 'secret-leaked', severity: 'critical', summary: `secret ${path} leaked; ${leases.length} lease(s) of ${s.id} revoked`, details: { secretPath: path, leases: leases.map((l) => l.leaseId), evidence: event.data.evidence } }], event.id, t, cause, out);
          n++;
        }
        return { status: 'applied', identities: n };
      }
    }
  }

  private issueOrder(event: Extract<BroadcastEvent, { type: 'order.issued' }>, meta: MessageMeta, out: EngineOutput): HandleResult {
    const d = event.data;
    const g = this.globalsState;
    const cause: Cause = { eventId: event.id, eventType: event.type, orderIds: [d.orderId], actor: d.actor };
    const remember = (next: Partial<Globals>): void => {
      this.globalsState = { ...this.globalsState, ...next, recentEventIds: ring(this.globalsState.recentEventIds, event.id, 64) };
      this.globalsDirty = true;
    };
    if (g.lifted.includes(`order:${d.orderId}`)) {
      remember({});
      return { status: 'unchanged' };
    }
    const expiresAt = d.expiresAt === undefined ? undefined : toMs(d.expiresAt);
    if (d.kind === 'read-only' || d.kind === 'deny-actions' || d.kind === 'quarantine') {
      const order: ActiveOrder = { orderId: d.orderId, kind: d.kind, target: d.target, actions: d.actions ?? [], expiresAt, issuedAt: meta.timestampMs, actor: d.actor, reason: d.reason };
      const orders = new Map(g.orders);
      const replaced = orders.get(order.orderId);
      orders.set(order.orderId, order);
      remember({ orders });
      // Re-issuing an order id replaces the order: identities only the old target matched are released.
      const targeted = this.targets(d.target);
      const released = replaced ? this.targets(replaced.target).filter((id) => !targeted.includes(id)) : [];
      if (released.length > 0) this.recomputeMany(released, meta, cause, out);
      const ids = targeted;
      if (d.kind === 'quarantine') {
        // Quarantine kills what the identity holds right now, not only its future access.
        for (const id of ids) {
          const s = this.identities.get(id);
          if (!s || s.status !== 'active') continue;
          const t = Math.max(s.clock, meta.timestampMs);
          const advanced = this.advance(s, t, out);
          const intents = revokeEverything(advanced, `quarantined by ${d.actor}: ${d.reason}`);
          const next: IdentityState = { ...advanced, sessions: [], leases: [], jit: advanced.jit.filter((j) => j.sessionId === undefined), clock: t };
          const settled = this.settle(advanced, next, t, cause, true, out);
          this.emitRevocations(settled, intents, event.id, t, cause, out);
        }
        return { status: 'applied', identities: ids.length };
      }
      return this.recomputeMany(ids, meta, cause, out);
    }
    // One-shot revocation orders: act now, keep nothing.
    remember({});
    let candidates = this.targets(d.target);
    if (d.kind === 'revoke-secret-leases' && d.secretPath !== undefined) {
      const holders = this.index.lookupAny([`secret=${d.secretPath}`]);
      candidates = candidates.filter((id) => holders.has(id));
    }
    let n = 0;
    for (const id of candidates) {
      const s = this.identities.get(id);
      if (!s || s.status === 'deleted') continue;
      const t = Math.max(s.clock, meta.timestampMs);
      const advanced = this.advance(s, t, out);
      let next: IdentityState = advanced;
      const intents: RevocationIntent[] = [];
      const reason = `${d.kind} ordered by ${d.actor}: ${d.reason}`;
      if (d.kind === 'revoke-secret-leases') {
        const leases = advanced.leases.filter((l) => l.secretPath === d.secretPath);
        if (leases.length === 0) continue;
        intents.push(...leaseRevocations(leases, reason));
        next = { ...advanced, leases: advanced.leases.filter((l) => l.secretPath !== d.secretPath) };
      } else if (d.kind === 'revoke-session' && d.sessionId !== undefined) {
        const ended = endSession(advanced, d.sessionId, reason, true, this.config);
        if (ended.revocations.length === 0 && !advanced.sessions.some((x) => x.sessionId === d.sessionId)) continue;
        intents.push(...ended.revocations);
        next = ended.state;
      } else if (d.kind === 'revoke-token' && d.tokenId !== undefined) {
        const sessions = advanced.sessions.filter((x) => x.tokenId === d.tokenId);
        for (const x of sessions) {
          const ended = endSession(next, x.sessionId, reason, true, this.config);
          next = ended.state;
          intents.push(...ended.revocations);
        }
        if (!intents.some((r) => r.target.type === 'token')) intents.push({ target: { type: 'token', id: d.tokenId, system: sessions[0]?.system ?? 'livescope' }, reason });
      } else continue;
      const settled = this.settle(advanced, { ...next, clock: t }, t, cause, !sameSessions(advanced, next), out);
      this.emitRevocations(settled, intents, event.id, t, cause, out);
      n++;
    }
    return { status: 'applied', identities: n };
  }

  /** Identities an order target names, found through the index (never a scan of the fleet). */
  private targets(target: ActiveOrder['target']): string[] {
    if ('identityId' in target) return this.identities.has(target.identityId) ? [target.identityId] : [];
    if ('selector' in target) {
      return this.index.lookup(selectorTerms(target.selector)).filter((id) => {
        const s = this.identities.get(id);
        return s !== undefined && targetMatches(target, s);
      });
    }
    return [...this.identities.keys()];
  }

  /** Identities a policy change can affect: the union of the changed policies' scopes. */
  private policyAffected(before: ScopePolicy, after: ScopePolicy): string[] | 'all' {
    const changed = new Set<string>();
    for (const [id, fp] of after.fingerprints) if (before.fingerprints.get(id) !== fp) changed.add(id);
    for (const id of before.fingerprints.keys()) if (!after.fingerprints.has(id)) changed.add(id);
    // Moving from or to the built-in default changes every decision.
    if (before.version === 0 || after.version === 0) return 'all';
    const out = new Set<string>();
    for (const id of changed) {
      const hint = after.fingerprints.has(id) ? after.scopeHint(id) : before.scopeHint(id);
      if (!hint.principals && !hint.roles && !hint.actions) return 'all';
      let ids: Iterable<string> | undefined;
      if (hint.principals) ids = hint.principals.filter((p) => this.identities.has(p));
      else if (hint.roles) ids = this.index.lookupAny(hint.roles.map((r) => `role=${r}`));
      if (hint.actions) {
        const holders = this.index.lookupAny(hint.actions.map((a) => `action=${a}`));
        ids = ids === undefined ? holders : [...ids].filter((x) => holders.has(x));
      }
      for (const x of ids ?? []) out.add(x);
    }
    return [...out];
  }

  private recomputeMany(ids: readonly string[] | Set<string> | 'all', meta: MessageMeta, cause: Cause, out: EngineOutput): HandleResult {
    const list = ids === 'all' ? [...this.identities.keys()] : [...ids];
    for (const id of list) {
      const s = this.identities.get(id);
      if (!s || s.status === 'deleted') continue;
      const t = Math.max(s.clock, meta.timestampMs);
      const advanced = this.advance(s, t, out);
      this.settle(advanced, { ...advanced, clock: t }, t, cause, true, out);
    }
    return { status: 'applied', identities: list.length };
  }
}

function sameSessions(a: IdentityState | undefined, b: IdentityState): boolean {
  const x = a?.sessions ?? [];
  const y = b.sessions;
  return x.length === y.length && x.every((s, i) => s.sessionId === y[i]!.sessionId);
}

export function sameScope(a: readonly ScopeEntry[], b: readonly ScopeEntry[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perm.key !== y.perm.key || x.validUntil !== y.validUntil || x.perm.access !== y.perm.access || x.grants.length !== y.grants.length || x.grants.some((g, j) => g !== y.grants[j])) return false;
  }
  return true;
}

type ListField = 'grants' | 'jit' | 'sessions' | 'approvals' | 'anomalies' | 'leases' | 'tombstones' | 'recentEventIds' | 'scope' | 'excessReported';
const LIST_FIELDS: readonly ListField[] = ['grants', 'jit', 'sessions', 'approvals', 'anomalies', 'leases', 'tombstones', 'recentEventIds', 'scope', 'excessReported'];

/**
 * Lists new in `s` (not shared with `prev`) replaced by exact-size copies, or by the shared empty
 * list. `filter`, `push` and spread literals leave spare capacity (often 16 slots) in the arrays
 * they build, and a stored state keeps them for its lifetime: at a million identities that spare
 * capacity was a third of the heap. `s` must be a fresh object not yet shared with anyone.
 */
function keepLists(s: IdentityState, prev: IdentityState | undefined): IdentityState {
  const w = s as { -readonly [K in ListField]: readonly unknown[] };
  for (const f of LIST_FIELDS) {
    const xs = w[f];
    if (xs === NONE || xs === prev?.[f]) continue;
    w[f] = xs.length === 0 ? NONE : xs.slice();
  }
  return s;
}

function samePerms(a: readonly ScopeEntry[], b: readonly ScopeEntry[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]!.perm !== b[i]!.perm) return false;
  return true;
}

export function toScopePermission(e: ScopeEntry): ScopePermission {
  return { action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : new Date(e.validUntil).toISOString(), grants: [...e.grants] };
}

export type { IdentityId };
