import type { Store } from '@livescope/store';
import { isoOrNull } from '../../persistence/isoOrNull.js';
import { claimInsertSql, claimParams, type IdempotencyClaim } from './IdempotencyRepository.js';

/** An order issued (or lifted) through this API, as recorded in `cp_orders`. */
export interface OrderRow {
  readonly orderId: string;
  readonly kind: string;
  readonly actor: string;
  readonly reason: string;
  readonly target: string;
  readonly eventId: string;
  readonly event: string;
  readonly issuedAt: string;
  readonly expiresAt: string | null;
  /** Partition → offset of each copy of the broadcast, once it is durable. */
  readonly offsets: Record<string, string> | null;
  readonly lift: { readonly eventId: string; readonly actor: string; readonly reason: string | null; readonly at: string; readonly offsets: Record<string, string> | null } | null;
}

/**
 * `cp_orders`: the orders issued through the API, who issued and lifted them, and where each copy of
 * their broadcast landed, so that any instance can tell how far the workers have processed them.
 */
export class OrdersRepository {
  constructor(private readonly store: Store) {}

  async insertOrder(o: OrderRow): Promise<void> {
    await this.store.query(
      'INSERT INTO cp_orders (order_id, kind, actor, reason, target, event_id, event, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [o.orderId, o.kind, o.actor, o.reason, o.target, o.eventId, o.event, o.issuedAt, o.expiresAt],
      'record order',
    );
  }

  /**
   * Records an order and claims its idempotency key in one statement: both or neither. False when
   * the key is claimed already (and not expired): the caller answers from that claim instead.
   */
  async insertOrderClaimingKey(o: OrderRow, claim: IdempotencyClaim): Promise<boolean> {
    const { rowCount } = await this.store.query(
      `WITH claim AS (${claimInsertSql(10)})
       INSERT INTO cp_orders (order_id, kind, actor, reason, target, event_id, event, issued_at, expires_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz WHERE EXISTS (SELECT 1 FROM claim)`,
      [o.orderId, o.kind, o.actor, o.reason, o.target, o.eventId, o.event, o.issuedAt, o.expiresAt, ...claimParams(claim)],
      'record order with its idempotency key',
    );
    return rowCount === 1;
  }

  async setOrderOffsets(orderId: string, offsets: Record<string, string>): Promise<void> {
    await this.store.query('UPDATE cp_orders SET offsets = $2 WHERE order_id = $1', [orderId, JSON.stringify(offsets)], 'record order offsets');
  }

  async deleteOrder(orderId: string): Promise<void> {
    await this.store.query('DELETE FROM cp_orders WHERE order_id = $1', [orderId], 'forget unpublished order');
  }

  async getOrder(orderId: string): Promise<OrderRow | undefined> {
    const { rows } = await this.store.query<{
      order_id: string;
      kind: string;
      actor: string;
      reason: string;
      target: string;
      event_id: string;
      event: string;
      issued_at: Date;
      expires_at: Date | null;
      offsets: string | null;
      lift_event_id: string | null;
      lift_actor: string | null;
      lift_reason: string | null;
      lifted_at: Date | null;
      lift_offsets: string | null;
    }>('SELECT * FROM cp_orders WHERE order_id = $1', [orderId], 'read order');
    const r = rows[0];
    if (!r) return undefined;
    return {
      orderId: r.order_id,
      kind: r.kind,
      actor: r.actor,
      reason: r.reason,
      target: r.target,
      eventId: r.event_id,
      event: r.event,
      issuedAt: r.issued_at.toISOString(),
      expiresAt: isoOrNull(r.expires_at),
      offsets: r.offsets === null ? null : (JSON.parse(r.offsets) as Record<string, string>),
      lift:
        r.lift_event_id === null
          ? null
          : { eventId: r.lift_event_id, actor: r.lift_actor ?? '', reason: r.lift_reason, at: isoOrNull(r.lifted_at) ?? r.issued_at.toISOString(), offsets: r.lift_offsets === null ? null : (JSON.parse(r.lift_offsets) as Record<string, string>) },
    };
  }

  /** Event ids of orders issued or lifted since `since` (to attribute re-read commands after a restart). */
  /** `eventId` is empty for orders issued by another producer and only lifted here. */
  async orderEventsSince(since: string): Promise<{ orderId: string; eventId: string; liftEventId: string | null }[]> {
    const { rows } = await this.store.query<{ order_id: string; event_id: string; lift_event_id: string | null }>(
      "SELECT order_id, event_id, lift_event_id FROM cp_orders WHERE (issued_at >= $1 OR lifted_at >= $1) AND (event_id <> '' OR lift_event_id IS NOT NULL) ORDER BY issued_at",
      [since],
      'read recent orders',
    );
    return rows.map((r) => ({ orderId: r.order_id, eventId: r.event_id, liftEventId: r.lift_event_id }));
  }

  /** Claims the lift of an order recorded here; false when it was lifted already (or is not recorded). */
  async claimLift(orderId: string, lift: { eventId: string; actor: string; reason: string | null; at: string }): Promise<boolean> {
    const { rowCount } = await this.store.query(
      'UPDATE cp_orders SET lift_event_id = $2, lift_actor = $3, lift_reason = $4, lifted_at = $5 WHERE order_id = $1 AND lift_event_id IS NULL',
      [orderId, lift.eventId, lift.actor, lift.reason, lift.at],
      'record lift',
    );
    return rowCount === 1;
  }

  /**
   * Claims the lift of an order recorded here and the request's idempotency key in one statement.
   * `key-taken`: the key is claimed already (answer from that claim); `lift-taken`: the order was
   * lifted already or is being lifted (the key is left unclaimed).
   */
  async claimLiftClaimingKey(orderId: string, lift: { eventId: string; actor: string; reason: string | null; at: string }, claim: IdempotencyClaim): Promise<'claimed' | 'key-taken' | 'lift-taken'> {
    const { rowCount } = await this.store.query(
      `WITH claim AS (${claimInsertSql(6)})
       UPDATE cp_orders SET lift_event_id = $2, lift_actor = $3, lift_reason = $4, lifted_at = $5::timestamptz
        WHERE order_id = $1 AND lift_event_id IS NULL AND EXISTS (SELECT 1 FROM claim)`,
      [orderId, lift.eventId, lift.actor, lift.reason, lift.at, ...claimParams(claim)],
      'record lift with its idempotency key',
    );
    if (rowCount === 1) return 'claimed';
    // The key was claimed by this statement only if the lift was taken: give it back.
    const { rowCount: ours } = await this.store.query(
      'DELETE FROM cp_idempotency WHERE subject = $1 AND operation = $2 AND key = $3 AND event_id = $4',
      [claim.subject, claim.operation, claim.key, claim.eventId],
      'release idempotency key of a refused lift',
    );
    return ours === 1 ? 'lift-taken' : 'key-taken';
  }

  async setLiftOffsets(orderId: string, offsets: Record<string, string>): Promise<void> {
    await this.store.query('UPDATE cp_orders SET lift_offsets = $2 WHERE order_id = $1', [orderId, JSON.stringify(offsets)], 'record lift offsets');
  }

  async releaseLift(orderId: string, eventId: string): Promise<void> {
    await this.store.query('UPDATE cp_orders SET lift_event_id = NULL, lift_actor = NULL, lift_reason = NULL, lifted_at = NULL WHERE order_id = $1 AND lift_event_id = $2', [orderId, eventId], 'forget unpublished lift');
  }
}
