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
import { LruMap } from '../../tracking/LruMap.js';
import { activeOrders as activeOrdersOf } from './activeOrders.js';
import { orderIssuedEvent, orderLiftedEvent } from './orderEvents.js';
import type { OrderRow, OrdersRepository } from './OrdersRepository.js';
import type { OrdersApi } from './routes.js';
import type * as S from './schemas.js';

export interface OrdersDeps {
  readonly config: Pick<ControlPlaneConfig, 'maxTtlMs' | 'maxWaitMs' | 'enforcerLivenessMs'>;
  /** The events topic orders are broadcast on (`TopicNames.events`). */
  readonly eventsTopic: TopicNames['events'];
  readonly repository: OrdersRepository;
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

/**
 * Responder orders: publishing narrowing and revocation orders and their lifts (accepted only once
 * durable on the events topic), the orders in force as the workers hold them, and what each order
 * did: identities changed and enforcement points that applied it.
 */
export class OrdersService implements OrdersApi, OrdersInForce {
  /** Ends of the command topics captured once an event was processed everywhere (see `progressOf`). */
  private readonly commandEnds = new LruMap<string, Map<string, bigint>>(10_000);

  constructor(private readonly d: OrdersDeps) {}

  async issueOrder(actor: Principal, req: S.IssueOrderRequest): Promise<z.input<typeof S.OrderAccepted>> {
    const now = Date.now();
    const orderId = newOrderId();
    const eventId = newEventId();
    const event = orderIssuedEvent(req, { orderId, eventId, actor: actor.sub, nowMs: now, maxTtlMs: this.d.config.maxTtlMs });
    await this.d.repository.insertOrder({
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
    });
    this.d.tracker.expect(eventId, orderId, 'order.issued');
    const offsets = await durablePublish(this.d.sender, this.d.logger, event, now, (late) => this.d.repository.setOrderOffsets(orderId, late), () => this.d.repository.deleteOrder(orderId));
    await this.d.repository.setOrderOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e.message }, 'order published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: req.kind });
    this.d.logger.info({ orderId, eventId, kind: req.kind, actor: actor.sub, target: event.data.target, expiresAt: event.data.expiresAt, reason: req.reason }, 'order issued');
    return {
      orderId,
      eventId,
      kind: req.kind,
      actor: actor.sub,
      target: event.data.target,
      expiresAt: event.data.expiresAt ?? null,
      acceptedAt: new Date().toISOString(),
      partitions: Object.keys(offsets).length,
      statusUrl: `/v1/orders/${encodeURIComponent(orderId)}/status`,
    };
  }

  async liftOrder(actor: Principal, orderId: string, reason: string | undefined): Promise<z.input<typeof S.LiftAccepted>> {
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
    if (row && !(await this.d.repository.claimLift(orderId, { eventId, actor: actor.sub, reason: reason ?? null, at: event.time }))) {
      throw new ControlPlaneError('CONFLICT', `order ${orderId} is being lifted by another request`);
    }
    this.d.tracker.expect(eventId, orderId, 'order.lifted');
    const offsets = await durablePublish(this.d.sender, this.d.logger, event, now, (late) => this.d.repository.setLiftOffsets(orderId, late), () => this.d.repository.releaseLift(orderId, eventId));
    await this.d.repository.setLiftOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e.message }, 'lift published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: 'lift' });
    this.d.logger.info({ orderId, eventId, actor: actor.sub, orderActor, reason }, 'order lifted');
    return { orderId, eventId, actor: actor.sub, acceptedAt: new Date().toISOString(), partitions: Object.keys(offsets).length, statusUrl: `/v1/orders/${encodeURIComponent(orderId)}/status` };
  }

  activeOrders(): Promise<z.input<typeof S.OrdersList>> {
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
      enforcers: { known: e.known.length, applied: counted ? e.applied.length : 0, appliedBy: counted ? [...e.applied] : [], pending: [...(counted ? e.pending : e.known)] },
    };
  }
}

function orderFromRow(row: OrderRow): Omit<S.ActiveOrderView, 'partitions' | 'actions'> {
  return { orderId: row.orderId, kind: row.kind as S.ActiveOrderView['kind'], actor: row.actor, reason: row.reason, target: JSON.parse(row.target) as S.ActiveOrderView['target'], issuedAt: row.issuedAt, expiresAt: row.expiresAt };
}

