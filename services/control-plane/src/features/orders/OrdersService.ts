import type { TopicNames } from '@livescope/contracts';
import { decodeGlobals } from '@livescope/scope-engine';
import type { Logger } from '@livescope/transport';
import type { z } from 'zod';
import { canLift, type Principal } from '../../auth/roles.js';
import type { ControlPlaneConfig } from '../../config.js';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import type { ControlPlaneMetrics } from '../../ControlPlaneMetrics.js';
import { newEventId, newOrderId } from '../../events/ids.js';
import type { CommandFollower } from '../../kafka/CommandFollower.js';
import { durablePublish } from '../../kafka/durablePublish.js';
import type { EventSender, PublishedOffsets } from '../../kafka/EventSender.js';
import type { WorkerState } from '../../persistence/WorkerState.js';
import { sleep } from '../../sleep.js';
import type { CommandTracker } from '../../tracking/CommandTracker.js';
import { LRUCache } from 'lru-cache';
import { activeOrders as activeOrdersOf } from './activeOrders.js';
import { orderIssuedEvent, orderLiftedEvent } from './orderEvents.js';
import { requestFingerprint, type IdempotencyRecord, type IdempotencyScope } from './idempotency.js';
import type { IdempotencyClaim, IdempotencyRepository } from './IdempotencyRepository.js';
import type { OrderRow, OrdersRepository } from './OrdersRepository.js';
import type { Answer, OrdersApi } from './routes.js';
import type * as S from './schemas.js';

export interface OrdersDeps {
  readonly config: Pick<ControlPlaneConfig, 'maxTtlMs' | 'maxWaitMs' | 'enforcerLivenessMs' | 'publishTimeoutMs' | 'idempotencyRetentionMs'>;
  /** The events topic orders are broadcast on (`TopicNames.events`). */
  readonly eventsTopic: TopicNames['events'];
  readonly repository: OrdersRepository;
  readonly idempotency: IdempotencyRepository;
  readonly workerState: WorkerState;
  readonly sender: EventSender;
  readonly tracker: CommandTracker;
  readonly follower: Pick<CommandFollower, 'commandTopicEnds' | 'caughtUp'>;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
}

/** What other features may ask of orders. */
export interface OrdersInForce {
  /** How many orders are in force at `nowMs`. */
  inForce(nowMs: number): Promise<number>;
}

const ONE_SHOT = new Set(['revoke-secret-leases', 'revoke-session', 'revoke-token']);
const STATUS_POLL_MS = 100;
/** Expired idempotency keys are swept at most this often per instance, this many at a time. */
const SWEEP_INTERVAL_MS = 60_000;
const SWEEP_BATCH = 1000;
/** Claims of one key tried before giving up (each try loses only to a claim that went away meanwhile). */
const MAX_CLAIM_ATTEMPTS = 3;
/** Never aborts: waits for a pending publication end on their own deadline. */
const NEVER = new AbortController().signal;

/** How a claimed key stands: its answer is known, its publication may still land, or nothing was published. */
type Settled<T> = { readonly body: T } | 'pending' | 'released';

/**
 * Responder orders: publishing narrowing and revocation orders and their lifts (accepted only once
 * durable on the events topic), the orders in force as the workers hold them, and what each order
 * did: identities changed and enforcement points that applied it.
 *
 * An order or lift sent with an `Idempotency-Key` claims the key in the statement that records it.
 * A retry with the key (same subject, same request) gets the first answer again, from PostgreSQL —
 * after a restart or from another instance too; while the first publication is unconfirmed (a 503
 * "may still be written") the retry waits for it up to the publish timeout and never publishes again.
 */
export class OrdersService implements OrdersApi, OrdersInForce {
  /** Ends of the command topics captured once an event was processed everywhere (see `progressOf`). */
  private readonly commandEnds = new LRUCache<string, Map<string, bigint>>({ max: 10_000 });
  private lastSweepMs = 0;

  constructor(private readonly d: OrdersDeps) {}

  async issueOrder(actor: Principal, req: S.IssueOrderRequest, idempotencyKey?: string): Promise<Answer<z.input<typeof S.OrderAccepted>>> {
    if (idempotencyKey === undefined) return { body: (await this.publishOrder(actor, req, undefined))!, replayed: false };
    const scope: IdempotencyScope = { subject: actor.sub, operation: 'issueOrder', key: idempotencyKey };
    const fingerprint = requestFingerprint(scope.operation, req);
    this.sweepExpiredKeys();
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const replay = await this.replay(scope, fingerprint, (rec) => this.settledOrder(rec));
      if (replay) return replay;
      const body = await this.publishOrder(actor, req, { ...scope, fingerprint, retentionMs: this.d.config.idempotencyRetentionMs });
      if (body) return { body, replayed: false };
      // Another request claimed the key between the look-up and the claim: answer from its claim.
    }
    throw new ControlPlaneError('CONFLICT', `Idempotency-Key ${idempotencyKey} is used by concurrent requests; retry`);
  }

  /**
   * Records, publishes and answers an order. With a claim, the key is claimed with the order record,
   * and the answer is undefined when another request claimed the key meanwhile (never without one).
   */
  private async publishOrder(actor: Principal, req: S.IssueOrderRequest, claim: Omit<IdempotencyClaim, 'eventId'> | undefined): Promise<z.input<typeof S.OrderAccepted> | undefined> {
    const now = Date.now();
    const orderId = newOrderId();
    const eventId = newEventId();
    const event = orderIssuedEvent(req, { orderId, eventId, actor: actor.sub, nowMs: now, maxTtlMs: this.d.config.maxTtlMs });
    const row: OrderRow = {
      orderId,
      kind: req.kind,
      actor: actor.sub,
      reason: req.reason,
      target: JSON.stringify(event.data.target),
      eventId,
      event: JSON.stringify(event),
      issuedAt: event.time,
      expiresAt: event.data.expiresAt ?? null,
      offsets: null,
      lift: null,
    };
    if (claim) {
      if (!(await this.d.repository.insertOrderClaimingKey(row, { ...claim, eventId }))) return undefined;
    } else {
      await this.d.repository.insertOrder(row);
    }
    this.d.tracker.expect(eventId, orderId, 'order.issued');
    let offsets: PublishedOffsets;
    try {
      // A definite failure deletes the order, and with it the claim of its key: a retry publishes afresh.
      offsets = await durablePublish(this.d.sender, this.d.logger, event, now, (late) => this.d.repository.setOrderOffsets(orderId, late), () => this.d.repository.deleteOrder(orderId));
    } catch (e) {
      throw mayStillLand(e, orderId, claim !== undefined);
    }
    await this.d.repository.setOrderOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e }, 'order published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: req.kind });
    this.d.logger.info({ orderId, eventId, kind: req.kind, actor: actor.sub, target: event.data.target, expiresAt: event.data.expiresAt, reason: req.reason, idempotencyKey: claim?.key }, 'order issued');
    const body = orderAccepted(row, offsets, new Date().toISOString());
    if (claim) await this.completeClaim(claim, eventId, body);
    return body;
  }

  async liftOrder(actor: Principal, orderId: string, reason: string | undefined, idempotencyKey?: string): Promise<Answer<z.input<typeof S.LiftAccepted>>> {
    const scope: IdempotencyScope | undefined = idempotencyKey === undefined ? undefined : { subject: actor.sub, operation: 'liftOrder', key: idempotencyKey };
    const fingerprint = scope ? requestFingerprint(scope.operation, { orderId, reason: reason ?? null }) : '';
    if (scope) {
      this.sweepExpiredKeys();
      const replay = await this.replay(scope, fingerprint, (rec) => this.settledLift(rec));
      if (replay) return replay;
    }
    const now = Date.now();
    let row = await this.d.repository.getOrder(orderId);
    const active = (await this.activeOrdersAt(now)).orders.find((o) => o.orderId === orderId);
    if (!row && !active) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is neither in force nor known to the control plane`);
    const orderActor = row?.actor ?? active!.actor;
    if (!canLift(actor, orderActor)) throw new ControlPlaneError('FORBIDDEN', `order ${orderId} was issued by ${orderActor}: lifting another's order widens scope and needs the approver role`);
    const kind = row?.kind ?? active!.kind;
    if (ONE_SHOT.has(kind)) throw new ControlPlaneError('CONFLICT', `order ${orderId} (${kind}) acted once when issued; there is nothing to lift`);
    if (row?.lift) throw new ControlPlaneError('CONFLICT', `order ${orderId} was already lifted by ${row.lift.actor} at ${row.lift.at}`);
    if (!active && row?.expiresAt && Date.parse(row.expiresAt) <= now) throw new ControlPlaneError('CONFLICT', `order ${orderId} expired at ${row.expiresAt}`);
    if (!row) {
      // An order issued by another producer (the simulator, a script): record it so its lift can be tracked.
      const a = active!;
      await this.d.repository.insertOrder({ orderId, kind: a.kind, actor: a.actor, reason: a.reason, target: JSON.stringify(a.target), eventId: '', event: JSON.stringify(a), issuedAt: a.issuedAt, expiresAt: a.expiresAt, offsets: null, lift: null }).catch(() => undefined);
      row = await this.d.repository.getOrder(orderId);
    }
    const eventId = newEventId();
    const event = orderLiftedEvent(orderId, actor.sub, reason, { eventId, nowMs: now });
    const lift = { eventId, actor: actor.sub, reason: reason ?? null, at: event.time };
    // Without a recorded order there is nothing to claim against (nor a key to keep: it needs the order row).
    const claim = scope && row ? { ...scope, fingerprint, eventId, retentionMs: this.d.config.idempotencyRetentionMs } : undefined;
    if (claim) {
      const claimed = await this.d.repository.claimLiftClaimingKey(orderId, lift, claim);
      if (claimed === 'key-taken') {
        const replay = await this.replay(claim, fingerprint, (rec) => this.settledLift(rec));
        if (replay) return replay;
        throw new ControlPlaneError('CONFLICT', `Idempotency-Key ${claim.key} is used by concurrent requests; retry`);
      }
      if (claimed === 'lift-taken') throw new ControlPlaneError('CONFLICT', `order ${orderId} is being lifted by another request`);
    } else if (row && !(await this.d.repository.claimLift(orderId, lift))) {
      throw new ControlPlaneError('CONFLICT', `order ${orderId} is being lifted by another request`);
    }
    this.d.tracker.expect(eventId, orderId, 'order.lifted');
    let offsets: PublishedOffsets;
    try {
      offsets = await durablePublish(
        this.d.sender,
        this.d.logger,
        event,
        now,
        (late) => this.d.repository.setLiftOffsets(orderId, late),
        async () => {
          await this.d.repository.releaseLift(orderId, eventId);
          if (claim) await this.d.idempotency.release(claim, eventId);
        },
      );
    } catch (e) {
      throw mayStillLand(e, orderId, claim !== undefined, 'lift of order');
    }
    await this.d.repository.setLiftOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e }, 'lift published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: 'lift' });
    this.d.logger.info({ orderId, eventId, actor: actor.sub, orderActor, reason, idempotencyKey: claim?.key }, 'order lifted');
    const body = liftAccepted(orderId, eventId, actor.sub, offsets, new Date().toISOString());
    if (claim) await this.completeClaim(claim, eventId, body);
    return { body, replayed: false };
  }

  /**
   * The answer a claimed key gives again: undefined when the key is not claimed (or its claim went
   * away with an unpublished order); 422 for another request under the same key; the stored answer;
   * or, while the first publication is unconfirmed, its answer once it is (waiting up to the publish
   * timeout), else 503 again — never a second publication.
   */
  private async replay<T>(scope: IdempotencyScope, fingerprint: string, settle: (rec: IdempotencyRecord) => Promise<Settled<T>>): Promise<Answer<T> | undefined> {
    const rec = await this.d.idempotency.find(scope);
    if (!rec) return undefined;
    if (rec.fingerprint !== fingerprint) {
      throw new ControlPlaneError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${scope.key} was used by ${scope.subject} for another request (order ${rec.orderId}) within the retention window; use a new key for a new request`);
    }
    if (rec.answer) {
      this.d.logger.info({ orderId: rec.orderId, eventId: rec.eventId, actor: scope.subject, idempotencyKey: scope.key, operation: scope.operation }, 'answered again (Idempotency-Key)');
      return { body: rec.answer.body as T, replayed: true };
    }
    const deadline = Date.now() + this.d.config.publishTimeoutMs;
    for (;;) {
      const s = await settle(rec);
      if (s === 'released') {
        await this.d.idempotency.release(scope, rec.eventId);
        return undefined;
      }
      if (s !== 'pending') {
        if (!(await this.d.idempotency.complete(scope, rec.eventId, 202, s.body))) {
          // Completed meanwhile by the request that published it: its answer is the one kept.
          const kept = await this.d.idempotency.find(scope);
          if (kept?.answer && kept.eventId === rec.eventId) return { body: kept.answer.body as T, replayed: true };
        }
        return { body: s.body, replayed: true };
      }
      if (Date.now() >= deadline) {
        const what = scope.operation === 'liftOrder' ? `the lift of order ${rec.orderId}` : `order ${rec.orderId}`;
        const message = `${what} is recorded but Kafka has not confirmed its publication yet; it may still be written. Retry with the same Idempotency-Key, or follow /v1/orders/${rec.orderId}/status`;
        throw new ControlPlaneError('UNAVAILABLE', message, { component: 'kafka', publicMessage: message, context: { orderId: rec.orderId, eventId: rec.eventId, published: 'unknown' } });
      }
      await sleep(Math.min(STATUS_POLL_MS, Math.max(1, deadline - Date.now())), NEVER);
    }
  }

  /** How the order a key was claimed for stands: accepted once its offsets are recorded (late ones too). */
  private async settledOrder(rec: IdempotencyRecord): Promise<Settled<z.input<typeof S.OrderAccepted>>> {
    const row = await this.d.repository.getOrder(rec.orderId);
    if (!row || row.eventId !== rec.eventId) return 'released';
    return row.offsets ? { body: orderAccepted(row, row.offsets, new Date().toISOString()) } : 'pending';
  }

  /** How the lift a key was claimed for stands: released when the order's lift is another one, or none. */
  private async settledLift(rec: IdempotencyRecord): Promise<Settled<z.input<typeof S.LiftAccepted>>> {
    const row = await this.d.repository.getOrder(rec.orderId);
    const lift = row?.lift;
    if (!lift || lift.eventId !== rec.eventId) return 'released';
    return lift.offsets ? { body: liftAccepted(rec.orderId, lift.eventId, lift.actor, lift.offsets, new Date().toISOString()) } : 'pending';
  }

  /** Keeps the answer of a claimed key; a failure leaves the claim pending (a retry finds the offsets). */
  private async completeClaim(scope: IdempotencyScope, eventId: string, body: unknown): Promise<void> {
    await this.d.idempotency.complete(scope, eventId, 202, body).catch((e: Error) => this.d.logger.warn({ idempotencyKey: scope.key, eventId, err: e }, 'answer of an idempotency key not recorded'));
  }

  /** Deletes expired keys now and then (any instance may; each deletes a bounded batch). */
  private sweepExpiredKeys(): void {
    const now = Date.now();
    if (now - this.lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = now;
    void this.d.idempotency
      .sweepExpired(SWEEP_BATCH)
      .then((n) => n > 0 && this.d.logger.debug({ deleted: n }, 'expired idempotency keys deleted'))
      .catch((e: Error) => this.d.logger.warn({ err: e }, 'expired idempotency keys not deleted'));
  }

  activeOrders(): Promise<Omit<z.input<typeof S.OrdersList>, 'nextCursor'>> {
    return this.activeOrdersAt(Date.now());
  }

  async inForce(nowMs: number): Promise<number> {
    return (await this.activeOrdersAt(nowMs)).orders.length;
  }

  /** The orders in force at `now` (expired ones left out) and the number of partitions read. */
  private async activeOrdersAt(now: number): Promise<{ orders: S.ActiveOrderView[]; partitions: number }> {
    const parts = await this.d.workerState.partitionsOf(this.d.eventsTopic);
    return { orders: activeOrdersOf(parts.map((p) => ({ globals: p.globals ? decodeGlobals(p.globals) : null })), now), partitions: parts.length };
  }

  async orderStatus(orderId: string, waitMs: number | undefined, enforcers: number | undefined, signal: AbortSignal): Promise<S.OrderStatus> {
    const deadline = Date.now() + Math.min(waitMs ?? 0, this.d.config.maxWaitMs);
    for (;;) {
      const status = await this.statusOnce(orderId, enforcers);
      if (waitMs === undefined || status.satisfied || signal.aborted || Date.now() >= deadline) return status;
      await sleep(Math.min(STATUS_POLL_MS, Math.max(1, deadline - Date.now())), signal);
    }
  }

  private async statusOnce(orderId: string, enforcersWanted: number | undefined): Promise<S.OrderStatus> {
    const now = Date.now();
    const row = await this.d.repository.getOrder(orderId);
    const { orders, partitions } = await this.activeOrdersAt(now);
    const active = orders.find((o) => o.orderId === orderId);
    const seen = this.d.tracker.eventsOfOrder(orderId);
    if (!row && !active && seen.length === 0) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is not known`);
    const positions = await this.d.workerState.partitionPositions(this.d.eventsTopic);
    const issueEventId = row?.eventId || seen.find((e) => this.d.tracker.progress(e)?.eventType === 'order.issued');
    const issue = issueEventId ? await this.progressOf(issueEventId, row?.eventId ? row.offsets : null, row?.issuedAt ?? active?.issuedAt ?? null, positions, now) : null;
    const lift = row?.lift ? { ...(await this.progressOf(row.lift.eventId, row.lift.offsets, row.lift.at, positions, now)), actor: row.lift.actor, reason: row.lift.reason } : null;
    const awaited = lift ?? issue;
    const satisfied = awaited !== null && awaited.complete && awaited.enforcers.applied >= (enforcersWanted ?? awaited.enforcers.known);
    const fallback = active ?? (row ? orderFromRow(row) : undefined);
    if (!fallback) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is not known`);
    return {
      orderId,
      kind: fallback.kind,
      actor: fallback.actor,
      reason: fallback.reason,
      target: fallback.target,
      issuedAt: fallback.issuedAt,
      expiresAt: fallback.expiresAt,
      inForce: { holding: active?.partitions.holding ?? 0, total: partitions },
      issue,
      lift,
      satisfied,
    };
  }

  /**
   * Progress of one published event. It is complete once every partition's worker committed past
   * it (so every command it caused was produced, acks=all, before that commit) and this instance has
   * read the command topics up to where they stood at that moment.
   */
  private async progressOf(eventId: string, offsets: PublishedOffsets | null, publishedAt: string | null, positions: ReadonlyMap<number, bigint>, now: number): Promise<S.Progress> {
    let partitions: S.Progress['partitions'] = null;
    let complete = false;
    if (offsets) {
      const entries = Object.entries(offsets);
      const processed = entries.filter(([p, o]) => (positions.get(Number(p)) ?? -1n) > BigInt(o)).length;
      partitions = { total: entries.length, processed };
      if (processed === entries.length && entries.length > 0) {
        let ends = this.commandEnds.get(eventId);
        if (!ends) this.commandEnds.set(eventId, (ends = await this.d.follower.commandTopicEnds()));
        complete = this.d.follower.caughtUp(ends);
      }
    }
    const p = this.d.tracker.progress(eventId);
    const e = this.d.tracker.enforcement(eventId, now, this.d.config.enforcerLivenessMs);
    // Before anything was seen, "applied everything seen" would be vacuously true: count only once there is something.
    const counted = complete || (p !== undefined && p.changes + p.revocations > 0);
    return {
      eventId,
      publishedAt: publishedAt ?? new Date(now).toISOString(),
      partitions,
      complete,
      identitiesChanged: p?.identitiesChanged ?? 0,
      changes: p?.changes ?? 0,
      revocations: p?.revocations ?? 0,
      truncated: p?.truncated ?? false,
      enforcers: { known: e.known.length, applied: counted ? e.applied.length : 0, appliedBy: counted ? [...e.applied] : [], verified: counted ? e.verified.length : 0, pending: [...(counted ? e.pending : e.known)] },
    };
  }
}

function orderAccepted(row: OrderRow, offsets: PublishedOffsets, acceptedAt: string): z.input<typeof S.OrderAccepted> {
  return {
    orderId: row.orderId,
    eventId: row.eventId,
    kind: row.kind as S.ActiveOrderView['kind'],
    actor: row.actor,
    target: JSON.parse(row.target) as S.ActiveOrderView['target'],
    expiresAt: row.expiresAt,
    acceptedAt,
    partitions: Object.keys(offsets).length,
    statusUrl: `/v1/orders/${encodeURIComponent(row.orderId)}/status`,
  };
}

function liftAccepted(orderId: string, eventId: string, actor: string, offsets: PublishedOffsets, acceptedAt: string): z.input<typeof S.LiftAccepted> {
  return { orderId, eventId, actor, acceptedAt, partitions: Object.keys(offsets).length, statusUrl: `/v1/orders/${encodeURIComponent(orderId)}/status` };
}

/**
 * A publication Kafka did not confirm in time may still land: the 503 names the order, so that the
 * caller can follow it (or retry with its Idempotency-Key). Other errors pass unchanged.
 */
function mayStillLand(e: unknown, orderId: string, withKey: boolean, what = 'order'): unknown {
  if (!ControlPlaneError.is(e) || e.context.published !== 'unknown') return e;
  const message = `${what} ${orderId} is recorded but Kafka did not confirm its publication in time; it may still be written. ${withKey ? 'Retry with the same Idempotency-Key, or follow' : 'Follow'} /v1/orders/${orderId}/status`;
  return new ControlPlaneError('UNAVAILABLE', message, { cause: e, component: 'kafka', publicMessage: message, context: { ...e.context, orderId } });
}

function orderFromRow(row: OrderRow): Omit<S.ActiveOrderView, 'partitions' | 'actions'> {
  return { orderId: row.orderId, kind: row.kind as S.ActiveOrderView['kind'], actor: row.actor, reason: row.reason, target: JSON.parse(row.target) as S.ActiveOrderView['target'], issuedAt: row.issuedAt, expiresAt: row.expiresAt };
}

