import type { EnforcerAck } from '@livescope/contracts';
import { LRUCache } from 'lru-cache';

/** A scope change or revocation as the control plane saw it on its topic. */
export interface CommandObservation {
  readonly kind: 'scope' | 'revocation';
  readonly identityId: string;
  readonly version: number;
  /** Kafka timestamp of the command message: enforcers report it back as `producedAt`. */
  readonly producedAtMs: number;
  /** The input event that caused it (`cause.eventId`). */
  readonly eventId?: string | undefined;
  readonly eventType?: string | undefined;
  /** Orders named anywhere in the command's causes (top level, added and removed permissions). */
  readonly orderIds: readonly string[];
}

export interface TrackerLimits {
  /** Order events (issues and lifts) remembered; the oldest is forgotten first. */
  readonly maxEvents: number;
  /** Identities remembered per order event; beyond it the progress says `truncated`. */
  readonly maxIdentitiesPerEvent: number;
  /** Identity versions remembered per enforcement point. */
  readonly maxIdentitiesPerEnforcer: number;
  /** Revocation acknowledgements remembered per enforcement point. */
  readonly maxRevocationsPerEnforcer: number;
  readonly maxEnforcers: number;
  /** Recent commands kept to measure how far behind each enforcement point is. */
  readonly recentCommands: number;
}

export const defaultTrackerLimits: TrackerLimits = {
  maxEvents: 10_000,
  maxIdentitiesPerEvent: 100_000,
  maxIdentitiesPerEnforcer: 500_000,
  maxRevocationsPerEnforcer: 100_000,
  maxEnforcers: 1000,
  recentCommands: 20_000,
};

interface EventRecord {
  readonly eventId: string;
  readonly orderIds: Set<string>;
  eventType: string | undefined;
  /** Every identity the event changed or revoked something of. */
  readonly identities: Set<string>;
  /** Scope version each identity must reach. */
  readonly scope: Map<string, number>;
  /** Revocations to be acknowledged: identity, version and the command's production instant. */
  readonly revocations: Map<string, { identityId: string; version: number }>;
  changes: number;
  revocationCount: number;
  truncated: boolean;
}

interface EnforcerRecord {
  firstSeenMs: number;
  lastSeenMs: number;
  /** Whether its latest acknowledgement was verified against its own key (AckAuthenticator). */
  verified: boolean;
  /** Highest scope version applied per identity (changes and snapshots). */
  readonly versions: LRUCache<string, number>;
  /** Revocations applied: `identity/version/producedAtMs`. */
  readonly revocations: LRUCache<string, true>;
}

export interface EventProgress {
  readonly eventId: string;
  readonly orderIds: readonly string[];
  readonly eventType: string | undefined;
  readonly identitiesChanged: number;
  readonly changes: number;
  readonly revocations: number;
  readonly truncated: boolean;
}

export interface EnforcementProgress {
  /** Enforcement points heard from within the liveness window. */
  readonly known: readonly string[];
  /** Those that applied every command the event caused. */
  readonly applied: readonly string[];
  /** Of `applied`, those whose acknowledgements are verified against their own keys. */
  readonly verified: readonly string[];
  readonly pending: readonly string[];
}

export interface Staleness {
  /** Age of the oldest command this enforcement point has not acknowledged (0 when none). */
  readonly behindMs: number;
  readonly pendingCommands: number;
}

const revKey = (identityId: string, version: number, producedAtMs: number): string => `${identityId}/${version}/${producedAtMs}`;

/**
 * Pure, bounded, in-memory bookkeeping of what responder orders caused and what enforcement points
 * applied. Commands are attributed to the order event in their `cause` (`eventId`, `orderIds`); an
 * enforcement point has applied an event when, for every identity it changed, it acknowledged that
 * scope version or a later one, and acknowledged each revocation (or a later scope version). Since
 * acknowledgements may arrive before the commands they acknowledge are seen, satisfaction is
 * evaluated when asked, never at arrival.
 */
export class CommandTracker {
  private readonly events = new Map<string, EventRecord>();
  private readonly byOrder = new Map<string, string[]>();
  private readonly enforcers = new Map<string, EnforcerRecord>();
  private readonly recent: CommandObservation[] = [];
  private recentNext = 0;

  constructor(private readonly limits: TrackerLimits = defaultTrackerLimits) {}

  observeCommand(o: CommandObservation): void {
    if (this.recent.length < this.limits.recentCommands) this.recent.push(o);
    else this.recent[this.recentNext] = o;
    this.recentNext = (this.recentNext + 1) % this.limits.recentCommands;
    const eventId = o.eventId;
    if (eventId === undefined || (o.orderIds.length === 0 && !this.events.has(eventId))) return;
    const rec = this.eventRecord(eventId, o.orderIds, o.eventType);
    if (o.kind === 'scope') rec.changes++;
    else rec.revocationCount++;
    if (!rec.identities.has(o.identityId)) {
      if (rec.identities.size >= this.limits.maxIdentitiesPerEvent) {
        rec.truncated = true;
        return;
      }
      rec.identities.add(o.identityId);
    }
    if (o.kind === 'scope') rec.scope.set(o.identityId, Math.max(rec.scope.get(o.identityId) ?? 0, o.version));
    else rec.revocations.set(revKey(o.identityId, o.version, o.producedAtMs), { identityId: o.identityId, version: o.version });
  }

  /** Records an acknowledgement the AckAuthenticator let through; `verified` when signed by the enforcement point's own key. */
  observeAck(ack: EnforcerAck, verified = false): void {
    const at = Date.parse(ack.at);
    let e = this.enforcers.get(ack.enforcerId);
    if (!e) {
      if (this.enforcers.size >= this.limits.maxEnforcers) this.forgetLeastRecentEnforcer();
      e = { firstSeenMs: at, lastSeenMs: at, verified, versions: boundedMap(this.limits.maxIdentitiesPerEnforcer), revocations: boundedMap(this.limits.maxRevocationsPerEnforcer) };
      this.enforcers.set(ack.enforcerId, e);
    }
    e.firstSeenMs = Math.min(e.firstSeenMs, at);
    e.verified = verified;
    e.lastSeenMs = Math.max(e.lastSeenMs, at);
    for (const a of ack.applied) {
      if (a.kind === 'revocation') {
        e.revocations.set(revKey(a.identityId, a.version, Date.parse(a.producedAt)), true);
      } else {
        // A revocation's version is that of a scope the enforcer may not hold yet: only scope commands move this.
        const held = e.versions.get(a.identityId) ?? 0;
        e.versions.set(a.identityId, Math.max(held, a.version));
      }
    }
  }

  /**
   * Registers an order event published by the control plane, so that commands it causes are
   * attributed to the order even when their causes name no order (a change of sessions only).
   */
  expect(eventId: string, orderId: string, eventType: 'order.issued' | 'order.lifted'): void {
    this.eventRecord(eventId, [orderId], eventType);
  }

  /** What an order event (issue or lift) caused, as far as seen. */
  progress(eventId: string): EventProgress | undefined {
    const r = this.events.get(eventId);
    if (!r) return undefined;
    return { eventId, orderIds: [...r.orderIds], eventType: r.eventType, identitiesChanged: r.identities.size, changes: r.changes, revocations: r.revocationCount, truncated: r.truncated };
  }

  /** Order events seen for an order id (its issue and its lift), oldest first. */
  eventsOfOrder(orderId: string): string[] {
    return [...(this.byOrder.get(orderId) ?? [])];
  }

  /** Which enforcement points applied everything `eventId` caused (an event that caused nothing is applied by all). */
  enforcement(eventId: string, nowMs: number, livenessMs: number): EnforcementProgress {
    const known = this.knownEnforcers(nowMs, livenessMs);
    const r = this.events.get(eventId);
    const applied: string[] = [];
    const verified: string[] = [];
    const pending: string[] = [];
    for (const id of known) {
      const e = this.enforcers.get(id)!;
      const done = r === undefined || this.appliedAll(e, r);
      (done ? applied : pending).push(id);
      if (done && e.verified) verified.push(id);
    }
    return { known, applied, verified, pending };
  }

  knownEnforcers(nowMs: number, livenessMs: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.enforcers) if (nowMs - e.lastSeenMs <= livenessMs) out.push(id);
    return out.sort();
  }

  lastSeenMs(enforcerId: string): number | undefined {
    return this.enforcers.get(enforcerId)?.lastSeenMs;
  }

  /**
   * How far behind an enforcement point is: among recent commands produced after it was first heard
   * from and more than `graceMs` ago, those it has not acknowledged, and the age of the oldest.
   */
  staleness(enforcerId: string, nowMs: number, graceMs: number): Staleness | undefined {
    const e = this.enforcers.get(enforcerId);
    if (!e) return undefined;
    let oldest: number | undefined;
    let pending = 0;
    for (const c of this.recent) {
      if (c.producedAtMs < e.firstSeenMs || c.producedAtMs > nowMs - graceMs) continue;
      const held = e.versions.get(c.identityId) ?? 0;
      const done = c.kind === 'scope' ? held >= c.version : held > c.version || e.revocations.has(revKey(c.identityId, c.version, c.producedAtMs));
      if (done) continue;
      pending++;
      if (oldest === undefined || c.producedAtMs < oldest) oldest = c.producedAtMs;
    }
    return { behindMs: oldest === undefined ? 0 : nowMs - oldest, pendingCommands: pending };
  }

  private appliedAll(e: EnforcerRecord, r: EventRecord): boolean {
    for (const [identityId, version] of r.scope) if ((e.versions.get(identityId) ?? 0) < version) return false;
    for (const [key, rev] of r.revocations) if (!e.revocations.has(key) && (e.versions.get(rev.identityId) ?? 0) <= rev.version) return false;
    return true;
  }

  private eventRecord(eventId: string, orderIds: readonly string[], eventType: string | undefined): EventRecord {
    let r = this.events.get(eventId);
    if (!r) {
      if (this.events.size >= this.limits.maxEvents) this.forgetOldestEvent();
      r = { eventId, orderIds: new Set(), eventType, identities: new Set(), scope: new Map(), revocations: new Map(), changes: 0, revocationCount: 0, truncated: false };
      this.events.set(eventId, r);
    }
    r.eventType ??= eventType;
    for (const o of orderIds) {
      if (r.orderIds.has(o)) continue;
      r.orderIds.add(o);
      const list = this.byOrder.get(o) ?? [];
      list.push(eventId);
      this.byOrder.set(o, list);
    }
    return r;
  }

  private forgetOldestEvent(): void {
    const [eventId, r] = this.events.entries().next().value as [string, EventRecord];
    this.events.delete(eventId);
    for (const o of r.orderIds) {
      const left = (this.byOrder.get(o) ?? []).filter((x) => x !== eventId);
      if (left.length === 0) this.byOrder.delete(o);
      else this.byOrder.set(o, left);
    }
  }

  private forgetLeastRecentEnforcer(): void {
    let victim: string | undefined;
    let min = Infinity;
    for (const [id, e] of this.enforcers) if (e.lastSeenMs < min) [victim, min] = [id, e.lastSeenMs];
    if (victim !== undefined) this.enforcers.delete(victim);
  }
}

/**
 * At most `entries` entries, the least recently used evicted first. Bounded by a count through
 * maxSize, not max: with max, lru-cache allocates all the slots up front (megabytes per
 * enforcement point at the default limits), and most enforcement points hold far fewer.
 */
function boundedMap<V extends NonNullable<unknown>>(entries: number): LRUCache<string, V> {
  return new LRUCache<string, V>({ maxSize: entries, sizeCalculation: () => 1 });
}
