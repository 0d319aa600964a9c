import {
  isBroadcastEvent,
  isControlEventType,
  type BroadcastEvent,
  type Cause,
  type DeadLetterReason,
  type DriftAlertType,
  type IdentityEvent,
  type IdentityId,
  type LivescopeEvent,
  type PermissionDelta,
  type ScopeChange,
  type ScopePermission,
  type ScopeSnapshot,
} from '@livescope/contracts';
import { LivescopeError, markErrorClass } from '@livescope/errors';
import { computeScope, type ScopeResult } from './computeScope.js';
import { defaultEngineConfig, type EngineConfig } from './EngineConfig.js';
import type { EngineOutput, HandleResult } from './EngineOutput.js';
import { evolveGlobals, type GlobalEffect, type GlobalsState, type PolicyCompiler, type PublishedPolicies, type ReleaseWindowVerifier, type Targets } from './evolveGlobals.js';
import { endSession, evolveIdentity, leaseRevocations, revokeEverything, toMs, type AlertIntent, type RevocationIntent } from './evolveIdentity.js';
import { emptyGlobals, type Globals } from './Globals.js';
import { idHash, ring } from './idHash.js';
import { IdentityIndex } from './IdentityIndex.js';
import { attestedSessions, NONE, type IdentityState, type ScopeEntry } from './IdentityState.js';
import { estimateCommandBytes, exceededLimit } from './limits.js';
import { PermInterner } from './PermInterner.js';
import { permitAllPolicy, type ScopePolicy } from './ScopePolicy.js';
import { selectorTerms, targetMatches } from './selectors.js';
import { TimerHeap } from './TimerHeap.js';

export type { PolicyCompiler, PublishedPolicies, ReleaseWindowVerifier } from './evolveGlobals.js';

export interface EngineDeps {
  readonly config?: Partial<Omit<EngineConfig, "limits">> & { readonly limits?: Partial<EngineConfig["limits"]> };
  readonly compilePolicies: PolicyCompiler;
  readonly verifyReleaseWindow: ReleaseWindowVerifier;
}

/**
 * Who produced an event, as the worker established from its producer signature and the keyring:
 * - `unsigned`: no producer signature — an observation (see `@livescope/contracts` trust.ts);
 * - `trusted`: signed by a key whose capabilities allow the event type, optionally limited to namespaces;
 * - `refused`: signed, but forged, by an unknown key, or by a key not allowed to send this type.
 */
export type ProducerVerdict =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'trusted'; readonly keyId: string; readonly namespaces?: readonly string[] }
  | { readonly kind: 'refused'; readonly keyId?: string; readonly reason: string };

export const UNSIGNED: ProducerVerdict = { kind: 'unsigned' };

export interface MessageMeta {
  /**
   * The processing instant, epoch ms: the Kafka message timestamp, which the broker assigns when it
   * appends the message (LogAppendTime) — part of the log, so a replay is deterministic, and not
   * chosen by any producer.
   */
  readonly timestampMs: number;
  /** Who produced the event. Default `unsigned` (an observation). */
  readonly producer?: ProducerVerdict;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_TIMER_STEPS = 64;
/** Longest failure text kept in a dead letter or an alert. */
const MAX_MESSAGE = 1000;
/** Policy and order ids listed per cause: keeps a command's size bounded whatever the policy set. */
const MAX_CAUSE_IDS = 16;
/** A cause without id lists: event id and type (≤ 256 characters each, escaped), actor, field names. */
const CAUSE_BYTES = 1200;

/**
 * Thrown inside a transaction to refuse the event being applied (a limit, a widening by an
 * observation); `handle` rolls the partition back to before the event and dead-letters it.
 */
class Refusal extends LivescopeError<Extract<DeadLetterReason, 'limit-exceeded' | 'unauthorized-producer'>> {
  constructor(code: Extract<DeadLetterReason, 'limit-exceeded' | 'unauthorized-producer'>, message: string) {
    super(code, 'poison', message);
  }
  get reason(): Extract<DeadLetterReason, 'limit-exceeded' | 'unauthorized-producer'> {
    return this.code;
  }
}
markErrorClass(Refusal, 'ScopeEngine.Refusal');

/** Rejections that also raise a drift alert for the SOC (someone tried something). */
const ALERTED: Partial<Record<DeadLetterReason, DriftAlertType>> = {
  'unauthorized-producer': 'unauthorized-producer',
  'stale-control-event': 'unauthorized-producer',
  'invalid-approval': 'invalid-approval',
  'invalid-signature': 'unauthorized-producer',
};

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e).slice(0, MAX_MESSAGE);
  const code = (e as { code?: unknown }).code;
  return `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`.slice(0, MAX_MESSAGE);
}

/**
 * Scopes hold a handful of permissions: a scan of their keys beats building a map per change (a
 * fan-out emits one change per identity). Larger scopes get a set; keys are unique within a scope.
 */
const SCAN_KEYS = 16;
function keySetOf(scope: readonly ScopeEntry[]): ReadonlySet<string> | undefined {
  return scope.length > SCAN_KEYS ? new Set(scope.map((e) => e.perm.key)) : undefined;
}
function holdsKey(scope: readonly ScopeEntry[], keys: ReadonlySet<string> | undefined, key: string): boolean {
  if (keys) return keys.has(key);
  for (let i = 0; i < scope.length; i++) if (scope[i]!.perm.key === key) return true;
  return false;
}

/** A change's cause ids: the event's own, then those that removed permissions; distinct, at most `MAX_CAUSE_IDS`. */
function causeIds(own: readonly string[] | undefined, removed: readonly PermissionDelta[], field: 'policyIds' | 'orderIds'): string[] {
  if (removed.length === 0 && (own === undefined || own.length <= 1)) return own === undefined ? [] : own.slice();
  const ids = new Set(own);
  for (const r of removed) for (const id of r.cause[field] ?? NONE) ids.add(id);
  return [...ids].slice(0, MAX_CAUSE_IDS);
}

/** Everything a rollback needs to put the partition back as it was. */
interface Savepoint {
  readonly globals: GlobalsState;
  readonly globalsDirty: boolean;
  readonly outLengths: readonly [number, number, number, number];
  /** Each identity stored during the transaction: its id, its state before, and whether it was dirty before. */
  readonly journal: [string, IdentityState | undefined, boolean][];
  rebuiltTimers: boolean;
}

/** A timer that failed to fire (a defect or data the engine cannot handle); the identity keeps its state. */
export interface TimerFailure {
  readonly identityId: string;
  readonly at: number;
  readonly message: string;
}

/**
 * The runtime-scope engine of one partition. Deterministic and free of I/O: it is a function of
 * the sequence of events (with their message timestamps and producer verdicts) and of timer
 * firings, which happen at the instants the engine itself computed. It keeps the identity store,
 * its index and timers; the rules are `evolveIdentity` (identity events) and `evolveGlobals`
 * (org-wide events). Every event is applied as a transaction: if applying it fails or is refused,
 * the partition is exactly as before it. The worker shell persists `drainDirty()` and publishes outputs.
 */
export class ScopeEngine {
  readonly config: EngineConfig;
  private readonly identities = new Map<string, IdentityState>();
  private readonly index = new IdentityIndex(() => this.identities.keys());
  private readonly timers = new TimerHeap();
  private readonly interner = new PermInterner();
  private readonly dirtyIds = new Set<string>();
  private globalsDirty = false;
  private gs: GlobalsState = { globals: emptyGlobals(), policy: permitAllPolicy, published: undefined };
  private tx: Savepoint | undefined;
  private timerFailures: TimerFailure[] = [];
  private readonly isKnownIdentity = (id: string): boolean => this.identities.has(id);
  /** The latest instant `tick` was given: snapshots are spaced from it too, so a replay of old events does not make them due at once. */
  private lastTickMs = 0;

  constructor(private readonly deps: EngineDeps) {
    this.config = { ...defaultEngineConfig, ...deps.config, limits: { ...defaultEngineConfig.limits, ...deps.config?.limits } };
  }

  // --- state access (worker shell, control plane, tests) ----------------------------------------
  get globals(): Globals {
    return this.gs.globals;
  }
  get policy(): ScopePolicy {
    return this.gs.policy;
  }
  get publishedPolicies(): PublishedPolicies | undefined {
    return this.gs.published;
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
      if (s && (s.wakeAt === top.at || s.snapshotAt === top.at)) {
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
    const globals = this.globalsDirty ? this.gs.globals : undefined;
    const policies = this.globalsDirty ? this.gs.published : undefined;
    this.globalsDirty = false;
    return { identities, globals, policies };
  }

  /** Timers that failed since the last call (each is logged and counted by the worker), then forgets them. */
  drainTimerFailures(): TimerFailure[] {
    const out = this.timerFailures;
    this.timerFailures = [];
    return out;
  }

  /** Loads persisted state (after a restart or a partition assignment); rebuilds indexes and timers. */
  load(state: { identities: Iterable<IdentityState>; globals?: Globals; policies?: PublishedPolicies }): void {
    if (state.policies) this.gs = { ...this.gs, policy: this.deps.compilePolicies(state.policies.files, state.policies.version), published: state.policies };
    if (state.globals) this.gs = { ...this.gs, globals: state.globals };
    for (const s of state.identities) this.put(s, false);
  }

  /**
   * Adds the persisted states of identities the engine does not hold, and skips the ones it holds:
   * the engine's copy is never older than the stored one (it is what the partition commits). This
   * lets a worker load a partition while it processes it (PartitionRunner: on demand, then in the
   * background). Called between events, never inside `handle` or `tick` (both are synchronous).
   * Returns how many were added.
   */
  loadMissing(identities: Iterable<IdentityState>): number {
    let n = 0;
    for (const s of identities) {
      if (this.identities.has(s.id)) continue;
      this.put(s, false);
      n++;
    }
    return n;
  }

  // --- input ---------------------------------------------------------------------------------
  /**
   * Applies one event. Never throws: an event that cannot be applied — refused, invalid, over a
   * limit, or failing inside the engine — comes back `rejected` with the dead-letter reason, and
   * the partition's state and `out` are exactly as before it.
   */
  handle(event: LivescopeEvent, meta: MessageMeta, out: EngineOutput): HandleResult {
    const producer = meta.producer ?? UNSIGNED;
    const eventTime = toMs(event.time);
    if (!(eventTime <= meta.timestampMs + this.config.maxFutureSkewMs)) {
      return { status: 'rejected', reason: 'timestamp-in-future', message: `event time ${event.time} is more than ${this.config.maxFutureSkewMs} ms after the broker's append time ${iso(meta.timestampMs)}` };
    }
    // An event's own time never runs ahead of the broker's clock (it is only used to order facts).
    const eventMs = Math.min(eventTime, meta.timestampMs);
    if (producer.kind === 'refused') return this.reject(event, meta, out, 'unauthorized-producer', `${event.type} ${event.id} refused: ${producer.reason}`, producer);
    const control = isControlEventType(event.type);
    if (control && producer.kind !== 'trusted') {
      return this.reject(event, meta, out, 'unauthorized-producer', `${event.type} ${event.id} is a control event and carries no producer signature; only a producer key allowed to send ${event.type} can`, producer);
    }
    if (control && eventMs < meta.timestampMs - this.config.maxControlEventAgeMs) {
      return this.reject(event, meta, out, 'stale-control-event', `${event.type} ${event.id} was signed for ${event.time}, more than ${this.config.maxControlEventAgeMs} ms before the broker appended it (${iso(meta.timestampMs)}): a replay of a captured event is refused`, producer);
    }
    const save = this.begin(out);
    let result: HandleResult;
    try {
      result = isBroadcastEvent(event) ? this.handleBroadcast(event, meta, producer, out, eventMs) : this.handleIdentityEvent(event, meta, producer, out, eventMs);
    } catch (e) {
      this.rollback(save, out);
      if (e instanceof Refusal) return this.reject(event, meta, out, e.reason, e.message, producer);
      // A defect or data the engine cannot handle: poison for this event only.
      return { status: 'rejected', reason: 'unprocessable', message: `applying ${event.type} ${event.id} failed inside the engine: ${describeError(e)}` };
    } finally {
      this.tx = undefined;
    }
    if (result.status === 'rejected') {
      this.rollback(save, out);
      return this.reject(event, meta, out, result.reason, result.message, producer);
    }
    return result;
  }

  /** Fires every timer due at or before `nowMs`, each at its own instant. Never throws (see `drainTimerFailures`). */
  tick(nowMs: number, out: EngineOutput): number {
    if (nowMs > this.lastTickMs) this.lastTickMs = nowMs;
    let fired = 0;
    const failed = new Set<string>();
    while (this.timers.size > 0 && this.timers.peek()! <= nowMs) {
      const { at, id } = this.timers.pop()!;
      const s = this.identities.get(id);
      if (!s || (s.wakeAt !== at && s.snapshotAt !== at) || failed.has(id)) continue;
      const save = this.begin(out);
      try {
        this.advance(s, at, out);
        fired++;
      } catch (e) {
        this.rollback(save, out);
        failed.add(id);
        // The identity keeps its state; its timer is retried at its next event.
        this.timerFailures.push({ identityId: id, at, message: e instanceof Refusal ? `${e.reason}: ${e.message}` : describeError(e) });
      } finally {
        this.tx = undefined;
      }
    }
    return fired;
  }

  // --- transactions ---------------------------------------------------------------------------
  private begin(out: EngineOutput): Savepoint {
    const save: Savepoint = {
      globals: this.gs,
      globalsDirty: this.globalsDirty,
      outLengths: [out.changes.length, out.snapshots.length, out.revocations.length, out.alerts.length],
      journal: [],
      rebuiltTimers: false,
    };
    this.tx = save;
    return save;
  }

  /** Puts every identity touched since `save` back, and the org-wide state, and drops the outputs. */
  private rollback(save: Savepoint, out: EngineOutput): void {
    for (let i = save.journal.length - 1; i >= 0; i--) {
      const [id, before, wasDirty] = save.journal[i]!;
      if (!wasDirty) this.dirtyIds.delete(id);
      const current = this.identities.get(id);
      if (before === undefined) {
        this.identities.delete(id);
        if (current) this.index.remove(current);
      } else {
        this.identities.set(id, before);
        // Re-index from the current terms to the old ones (update() diffs the two states).
        this.index.update(before, current);
      }
    }
    // The timer entries of the restored states are still in the heap (superseded entries are skipped
    // lazily) unless the heap was rebuilt meanwhile.
    if (save.rebuiltTimers) this.rebuildTimers();
    this.gs = save.globals;
    this.globalsDirty = save.globalsDirty;
    out.changes.length = save.outLengths[0];
    out.snapshots.length = save.outLengths[1];
    out.revocations.length = save.outLengths[2];
    out.alerts.length = save.outLengths[3];
  }

  /** The rejection, with a drift alert when it means someone tried something (emitted after any rollback). */
  private reject(event: LivescopeEvent, meta: MessageMeta, out: EngineOutput, reason: DeadLetterReason, message: string, producer: ProducerVerdict): HandleResult {
    const text = message.slice(0, MAX_MESSAGE);
    const type = ALERTED[reason];
    if (type !== undefined) {
      const subject = isBroadcastEvent(event) ? undefined : this.identities.has(event.subject) ? event.subject : undefined;
      out.alerts.push({
        kind: 'drift.alert',
        alertId: `${subject ?? 'org'}/${event.id}/${type}`,
        type,
        severity: type === 'invalid-approval' ? 'high' : 'critical',
        ...(subject !== undefined ? { identityId: subject } : {}),
        at: iso(meta.timestampMs),
        summary: text,
        details: { eventId: event.id, eventType: event.type, source: event.source, reason, producerKeyId: producer.kind === 'unsigned' ? null : (producer.keyId ?? null) },
        cause: { eventId: event.id, eventType: event.type },
      });
    }
    return { status: 'rejected', reason, message: text };
  }

  private handleIdentityEvent(event: IdentityEvent, meta: MessageMeta, producer: ProducerVerdict, out: EngineOutput, eventMs: number): HandleResult {
    let prev = this.identities.get(event.subject);
    const eventHash = idHash(event.id);
    if (prev?.recentEventIds.includes(eventHash)) return { status: 'duplicate' };
    const trusted = producer.kind === 'trusted';
    if (producer.kind === 'trusted' && producer.namespaces !== undefined) {
      const namespaces = producer.namespaces;
      const touched = [prev?.namespace ?? (event.type === 'identity.created' ? event.data.namespace : undefined), event.type === 'identity.updated' ? event.data.namespace : undefined];
      for (const ns of touched) {
        if (ns !== undefined && !namespaces.includes(ns)) return { status: 'rejected', reason: 'unauthorized-producer', message: `producer key ${producer.keyId} is limited to namespaces ${namespaces.join(', ')} and cannot send ${event.type} for ${event.subject} in namespace ${ns}` };
      }
    }
    const t = Math.max(prev?.clock ?? 0, meta.timestampMs);
    if (prev) prev = this.advance(prev, t, out);
    const tr = evolveIdentity(prev, event, { t, eventTimeMs: eventMs, config: this.config, interner: this.interner, trusted, isKnownIdentity: this.isKnownIdentity });
    if (tr.reject) return { status: 'rejected', ...tr.reject };
    // A no-op is not remembered for duplicate detection: repeating it is a no-op too, and it costs no state write.
    if (tr.state === prev && tr.alerts.length === 0 && tr.revocations.length === 0) return { status: 'unchanged' };
    if (tr.state !== prev) {
      const over = exceededLimit(tr.state, this.config.limits);
      if (over !== undefined && (prev === undefined || exceededLimit(prev, this.config.limits) !== over)) {
        return { status: 'rejected', reason: 'limit-exceeded', message: `${event.type} ${event.id} refused: ${event.subject} would hold ${over}` };
      }
    }
    const cause: Cause = { eventId: event.id, eventType: event.type };
    let next: IdentityState = { ...tr.state, clock: t, recentEventIds: ring(tr.state.recentEventIds, eventHash, this.config.dedupeWindow) };
    const recompute = tr.recompute === true || (tr.recompute !== false && this.gs.policy.reads(tr.recompute));
    next = this.settle(prev, next, t, cause, recompute, out);
    // The rule for observations, whatever the event and the policies: nothing an unsigned producer
    // sends may widen a scope. (A session it starts is observed, a risk it lowers is ignored, so this
    // only fires for policies that widen on other facts, e.g. `forbid when session.count > 3`.)
    if (!trusted && prev !== undefined) {
      const widened = widening(prev, next);
      if (widened !== undefined) throw new Refusal('unauthorized-producer', `${event.type} ${event.id} from an unsigned producer would widen the scope of ${event.subject} (${widened}); only a producer key allowed to send ${event.type} can`);
    }
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
    if (s.snapshotAt !== null && s.snapshotAt <= t) s = this.emitSnapshot(s, out);
    return s;
  }

  /** The snapshot that was due for `s`, with the version it holds now; the identity then has none pending. */
  private emitSnapshot(s: IdentityState, out: EngineOutput): IdentityState {
    out.snapshots.push({ kind: 'scope.snapshot', identityId: s.id, version: s.version, at: iso(s.snapshotAt!), status: s.status, permissions: s.scope.map(toScopePermission), sessions: attestedSessions(s).map((x) => x.sessionId) as ScopeSnapshot['sessions'] });
    const next: IdentityState = { ...s, snapshotAt: null };
    this.put(next, true);
    return next;
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
      result = computeScope(next, this.gs.globals, this.gs.policy, t, this.config);
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
    const emit = changed && (prev !== undefined || scope.length > 0 || attestedSessions(next).length > 0);
    if (emit && scope !== prev?.scope) {
      const bytes = estimateCommandBytes(prev?.scope ?? NONE, scope, attestedSessions(next), CAUSE_BYTES, CAUSE_BYTES + MAX_CAUSE_IDS * 2 * 260);
      if (bytes > this.config.limits.maxCommandBytes) throw new Refusal('limit-exceeded', `the scope change of ${next.id} would be about ${bytes} bytes, above the limit of ${this.config.limits.maxCommandBytes} bytes per command`);
    }
    const version = emit ? (prev?.version ?? 0) + 1 : prev === undefined ? 0 : next.version;
    // A change carries the full scope: its snapshot waits for the interval (one already due carries this version too).
    const interval = this.config.snapshotIntervalMs;
    const snapshotAt = emit && interval > 0 && next.snapshotAt === null ? Math.max(t, this.lastTickMs) + interval : next.snapshotAt;
    const stored: IdentityState = keepLists({ ...next, scope, wakeAt, version, snapshotAt }, prev);
    if (emit) this.emitChange(prev, stored, result, t, cause, out);
    this.put(stored, true);
    return stored;
  }

  private put(s: IdentityState, dirty: boolean): void {
    const before = this.identities.get(s.id);
    this.tx?.journal.push([s.id, before, this.dirtyIds.has(s.id)]);
    this.identities.set(s.id, s);
    this.index.update(s, before);
    const wake = s.wakeAt !== null && (s.wakeAt !== before?.wakeAt || !before);
    if (wake) this.timers.push(s.wakeAt, s.id);
    const snapshot = s.snapshotAt !== null && (s.snapshotAt !== before?.snapshotAt || !before);
    if (snapshot) this.timers.push(s.snapshotAt, s.id);
    // Superseded entries are skipped lazily; rebuild when they outnumber the live ones (at most two
    // per identity), so a long-running worker does not accumulate one entry per change of a far
    // wake-up (7-day reviews).
    if ((wake || snapshot) && this.timers.size > 3 * this.identities.size + 1024) this.rebuildTimers();
    if (dirty) this.dirtyIds.add(s.id);
  }

  private rebuildTimers(): void {
    if (this.tx) this.tx.rebuiltTimers = true;
    this.timers.clear();
    for (const x of this.identities.values()) {
      if (x.wakeAt !== null) this.timers.push(x.wakeAt, x.id);
      if (x.snapshotAt !== null) this.timers.push(x.snapshotAt, x.id);
    }
  }

  private emitChange(prev: IdentityState | undefined, next: IdentityState, result: ScopeResult | undefined, t: number, cause: Cause, out: EngineOutput): void {
    const before = prev?.scope ?? NONE;
    const after = next.scope;
    const beforeKeys = keySetOf(before);
    const afterKeys = keySetOf(after);
    const added: PermissionDelta[] = [];
    const removed: PermissionDelta[] = [];
    for (const e of after) {
      if (!holdsKey(before, beforeKeys, e.perm.key)) added.push({ action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : iso(e.validUntil), cause: { ...cause, policyIds: [] } });
    }
    for (const e of before) {
      if (holdsKey(after, afterKeys, e.perm.key)) continue;
      const why = result?.excluded.get(e.perm.key);
      removed.push({ action: e.perm.action, resource: e.perm.resource, access: e.perm.access, cause: { ...cause, policyIds: (why?.policyIds ?? NONE).slice(0, MAX_CAUSE_IDS), orderIds: (why?.orderIds ?? NONE).slice(0, MAX_CAUSE_IDS) } });
    }
    const direction: ScopeChange['direction'] = added.length && removed.length ? 'mixed' : added.length ? 'widening' : removed.length ? 'narrowing' : 'refresh';
    const permissions = next.scope.map(toScopePermission);
    const sessions = attestedSessions(next).map((s) => s.sessionId) as ScopeChange['sessions'];
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
      cause: {
        ...cause,
        policyIds: causeIds(cause.policyIds, removed, 'policyIds'),
        orderIds: causeIds(cause.orderIds, removed, 'orderIds'),
      },
    };
    out.changes.push(change);
    if (next.snapshotAt === null) out.snapshots.push({ kind: 'scope.snapshot', identityId: next.id, version: next.version, at, status: next.status, permissions, sessions });
    const widenedAdmin = added.filter((a) => a.access === 'admin');
    if (prev && prev.version > 0 && (added.length >= this.config.suddenWideningThreshold || widenedAdmin.length > 0) && cause.eventType !== 'order.lifted') {
      this.emitAlerts(
        next,
        [
          {
            type: 'sudden-widening',
            severity: widenedAdmin.length ? 'high' : 'medium',
            summary: `scope of ${next.id} widened by ${added.length} permission${added.length === 1 ? '' : 's'}${widenedAdmin.length ? ` (${widenedAdmin.length} admin)` : ''}`,
            details: { added: added.slice(0, 100).map((a) => ({ action: a.action, resource: a.resource, access: a.access })), addedCount: added.length, version: next.version },
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

  // --- org-wide events: evolveGlobals decides, the engine applies the effects to its identities ----
  private handleBroadcast(event: BroadcastEvent, meta: MessageMeta, producer: ProducerVerdict, out: EngineOutput, eventMs: number): HandleResult {
    const namespaces = producer.kind === 'trusted' ? producer.namespaces : undefined;
    const tr = evolveGlobals(this.gs, event, { t: meta.timestampMs, eventTimeMs: eventMs, compilePolicies: this.deps.compilePolicies, verifyReleaseWindow: this.deps.verifyReleaseWindow, namespaces });
    if (tr.status === 'rejected') return { status: 'rejected', reason: tr.reject!.reason, message: tr.reject!.message };
    if (tr.status === 'duplicate') return { status: 'duplicate' };
    if (tr.state !== this.gs) {
      this.gs = tr.state;
      this.globalsDirty = true;
    }
    if (tr.status === 'unchanged') return { status: 'unchanged' };
    let n = 0;
    for (const effect of tr.effects) n += this.applyEffect(effect, event.id, meta, namespaces, tr.cause, out);
    return { status: 'applied', identities: n };
  }

  private applyEffect(effect: GlobalEffect, eventId: string, meta: MessageMeta, namespaces: readonly string[] | undefined, cause: Cause, out: EngineOutput): number {
    const ids = this.resolve(effect.targets, namespaces);
    let n = 0;
    for (const id of ids) {
      const s = this.identities.get(id);
      if (!s || s.status === 'deleted') continue;
      const t = Math.max(s.clock, meta.timestampMs);
      const advanced = this.advance(s, t, out);
      switch (effect.type) {
        case 'recompute':
          this.settle(advanced, { ...advanced, clock: t }, t, cause, true, out);
          break;
        case 'quarantine': {
          // Quarantine kills what the identity holds right now, not only its future access.
          if (advanced.status !== 'active') continue;
          const intents = revokeEverything(advanced, effect.reason);
          const next: IdentityState = { ...advanced, sessions: [], leases: [], jit: advanced.jit.filter((j) => j.sessionId === undefined), clock: t };
          const settled = this.settle(advanced, next, t, cause, true, out);
          this.emitRevocations(settled, intents, eventId, t, cause, out);
          break;
        }
        case 'revoke-leases': {
          const leases = advanced.leases.filter((l) => l.secretPath === effect.secretPath);
          if (leases.length === 0) continue;
          const settled = this.settle(advanced, { ...advanced, leases: advanced.leases.filter((l) => l.secretPath !== effect.secretPath), clock: t }, t, cause, false, out);
          this.emitRevocations(settled, leaseRevocations(leases, effect.reason), eventId, t, cause, out);
          break;
        }
        case 'revoke-session': {
          if (!advanced.sessions.some((x) => x.sessionId === effect.sessionId)) continue;
          const ended = endSession(advanced, effect.sessionId, effect.reason, true, this.config);
          const settled = this.settle(advanced, { ...ended.state, clock: t }, t, cause, true, out);
          this.emitRevocations(settled, ended.revocations, eventId, t, cause, out);
          break;
        }
        case 'revoke-token': {
          const sessions = advanced.sessions.filter((x) => x.tokenId === effect.tokenId);
          let next: IdentityState = advanced;
          const intents: RevocationIntent[] = [];
          for (const x of sessions) {
            const ended = endSession(next, x.sessionId, effect.reason, true, this.config);
            next = ended.state;
            intents.push(...ended.revocations);
          }
          if (!intents.some((r) => r.target.type === 'token')) intents.push({ target: { type: 'token', id: effect.tokenId, system: sessions[0]?.system ?? 'livescope' }, reason: effect.reason });
          const settled = this.settle(advanced, { ...next, clock: t }, t, cause, !sameSessions(advanced, next), out);
          this.emitRevocations(settled, intents, eventId, t, cause, out);
          break;
        }
        case 'secret-leaked': {
          const leases = advanced.leases.filter((l) => l.secretPath === effect.secretPath);
          if (leases.length === 0) continue;
          const settled = this.settle(advanced, { ...advanced, leases: advanced.leases.filter((l) => l.secretPath !== effect.secretPath), clock: t }, t, cause, false, out);
          this.emitRevocations(settled, leaseRevocations(leases, `secret ${effect.secretPath} leaked`), eventId, t, cause, out);
          this.emitAlerts(
            settled,
            [{ type: 'secret-leaked', severity: 'critical', summary: `secret ${effect.secretPath} leaked; ${leases.length} lease(s) of ${s.id} revoked`, details: { secretPath: effect.secretPath, leases: leases.slice(0, 100).map((l) => l.leaseId), evidence: effect.evidence } }],
            eventId,
            t,
            cause,
            out,
          );
          break;
        }
        default: {
          const unknown: never = effect;
          throw new Error(`unknown org-wide effect ${JSON.stringify(unknown)}`);
        }
      }
      n++;
    }
    return effect.type === 'recompute' ? ids.length : n;
  }

  /** Identities a target names, found through the index (never a scan of the fleet), within the producer key's namespaces. */
  private resolve(targets: Targets, namespaces: readonly string[] | undefined): string[] {
    let ids: string[];
    switch (targets.kind) {
      case 'order': {
        const target = targets.target;
        if ('identityId' in target) ids = this.identities.has(target.identityId) ? [target.identityId] : [];
        else if ('selector' in target) {
          ids = this.index.lookup(selectorTerms(target.selector)).filter((id) => {
            const s = this.identities.get(id);
            return s !== undefined && targetMatches(target, s);
          });
        } else ids = [...this.identities.keys()];
        break;
      }
      case 'permission-namespace':
        ids = [...this.index.lookupAny([`permns=${targets.namespace}`])];
        break;
      case 'secret-holders':
        ids = [...this.index.lookupAny([`secret=${targets.secretPath}`])];
        break;
      case 'policy-change': {
        const affected = this.policyAffected(targets.before, targets.after);
        ids = affected === 'all' ? [...this.identities.keys()] : affected;
        break;
      }
      default: {
        const unknown: never = targets;
        throw new Error(`unknown target ${JSON.stringify(unknown)}`);
      }
    }
    if (namespaces === undefined) return ids;
    return ids.filter((id) => {
      const s = this.identities.get(id);
      return s !== undefined && namespaces.includes(s.namespace);
    });
  }

  /** Identities a policy change can affect: the union of the changed policies' scopes. */
  private policyAffected(before: ScopePolicy, after: ScopePolicy): string[] | 'all' {
    const changed = new Set<string>();
    for (const [id, fp] of after.fingerprints) if (before.fingerprints.get(id) !== fp) changed.add(id);
    for (const id of before.fingerprints.keys()) if (!after.fingerprints.has(id)) changed.add(id);
    // Moving from or to the built-in default changes every decision.
    if (before.version === 0 || after.version === 0) return 'all';
    const out = new Set<string>();
    // A modified policy reaches the identities of its old scope and of its new one: a permit moved
    // from one role to another must narrow the first role's holders.
    const hints = [...changed].flatMap((id) => [...(after.fingerprints.has(id) ? [after.scopeHint(id)] : []), ...(before.fingerprints.has(id) ? [before.scopeHint(id)] : [])]);
    for (const hint of hints) {
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
}

/** Session ids enforcement points accept: the attested sessions, in order. */
function sameSessions(a: IdentityState | undefined, b: IdentityState): boolean {
  const x = a === undefined ? NONE : attestedSessions(a);
  const y = attestedSessions(b);
  return x.length === y.length && x.every((s, i) => s.sessionId === y[i]!.sessionId);
}

/**
 * What `next` allows that `prev` did not, as text, or undefined: a permission added, bound to more
 * sessions (or to none), or valid for longer; a session accepted that was not; a status that allows more.
 */
export function widening(prev: IdentityState, next: IdentityState): string | undefined {
  if (prev.status !== 'active' && next.status === 'active') return `status ${prev.status} → active`;
  const before = new Map(prev.scope.map((e) => [e.perm.key, e]));
  for (const e of next.scope) {
    const b = before.get(e.perm.key);
    if (!b) return `adds ${e.perm.action} on ${e.perm.resource}`;
    if (b.validUntil !== null && (e.validUntil === null || e.validUntil > b.validUntil)) return `extends ${e.perm.action} on ${e.perm.resource}`;
    if (b.sessions !== undefined && (e.sessions === undefined || e.sessions.some((x) => !b.sessions!.includes(x)))) return `binds ${e.perm.action} on ${e.perm.resource} to more sessions`;
  }
  const held = new Set(attestedSessions(prev).map((s) => s.sessionId));
  for (const s of attestedSessions(next)) if (!held.has(s.sessionId)) return `accepts session ${s.sessionId}`;
  return undefined;
}

export function sameScope(a: readonly ScopeEntry[], b: readonly ScopeEntry[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.perm.key !== y.perm.key || x.validUntil !== y.validUntil || x.perm.access !== y.perm.access || x.grants.length !== y.grants.length || x.grants.some((g, j) => g !== y.grants[j])) return false;
    if (x.sessions !== y.sessions && (x.sessions === undefined || y.sessions === undefined || x.sessions.length !== y.sessions.length || x.sessions.some((s, j) => s !== y.sessions![j]))) return false;
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
  const p: ScopePermission = { action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : new Date(e.validUntil).toISOString(), grants: [...e.grants] };
  if (e.sessions !== undefined) p.sessions = [...e.sessions] as ScopePermission['sessions'];
  return p;
}

export type { IdentityId };
