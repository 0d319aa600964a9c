import type { Store } from '@livescope/store';
import type { IdempotencyRecord, IdempotencyScope } from './idempotency.js';

/** What a claim writes beside the order (or the lift) it is claimed for. */
export interface IdempotencyClaim extends IdempotencyScope {
  readonly fingerprint: string;
  readonly eventId: string;
  /** How long the answer is kept, from now (PostgreSQL's clock, shared by every instance). */
  readonly retentionMs: number;
}

/**
 * The INSERT that claims a key, for a statement that records the order or the lift in the same
 * breath (`$1` order id; the claim's own parameters from `$first`). An expired claim of the same key
 * is replaced; a live one is left alone and the INSERT returns no row.
 */
export function claimInsertSql(first: number): string {
  const p = (i: number): string => `$${first + i}`;
  return `INSERT INTO cp_idempotency (subject, operation, key, fingerprint, order_id, event_id, expires_at)
    VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, $1, ${p(4)}, now() + ${p(5)}::bigint * interval '1 millisecond')
    ON CONFLICT (subject, operation, key) DO UPDATE
      SET fingerprint = EXCLUDED.fingerprint, order_id = EXCLUDED.order_id, event_id = EXCLUDED.event_id,
          status = NULL, response = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
      WHERE cp_idempotency.expires_at <= now()
    RETURNING 1`;
}

/** The parameters of `claimInsertSql`, in order. */
export const claimParams = (c: IdempotencyClaim): unknown[] => [c.subject, c.operation, c.key, c.fingerprint, c.eventId, c.retentionMs];

/**
 * `cp_idempotency`: the keys of orders and lifts sent with an `Idempotency-Key`, the fingerprint of
 * the request that claimed each, and its answer once known. Claims are written by OrdersRepository,
 * in the statement that records what they are for.
 */
export class IdempotencyRepository {
  constructor(private readonly store: Store) {}

  /** The live (unexpired) claim of a key. */
  async find(s: IdempotencyScope): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.store.query<{ fingerprint: string; order_id: string; event_id: string; status: number | null; response: string | null }>(
      'SELECT fingerprint, order_id, event_id, status, response FROM cp_idempotency WHERE subject = $1 AND operation = $2 AND key = $3 AND expires_at > now()',
      [s.subject, s.operation, s.key],
      'read idempotency key',
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      ...s,
      fingerprint: r.fingerprint,
      orderId: r.order_id,
      eventId: r.event_id,
      answer: r.status === null || r.response === null ? null : { status: r.status, body: JSON.parse(r.response) as unknown },
    };
  }

  /** Stores the answer of the claim made for `eventId`; false when it holds one already (or is gone). */
  async complete(s: IdempotencyScope, eventId: string, status: number, body: unknown): Promise<boolean> {
    const { rowCount } = await this.store.query(
      'UPDATE cp_idempotency SET status = $5, response = $6 WHERE subject = $1 AND operation = $2 AND key = $3 AND event_id = $4 AND status IS NULL',
      [s.subject, s.operation, s.key, eventId, status, JSON.stringify(body)],
      'record idempotent answer',
    );
    return rowCount === 1;
  }

  /** Gives up the claim made for `eventId` (nothing was published): a retry with the key starts afresh. */
  async release(s: IdempotencyScope, eventId: string): Promise<boolean> {
    const { rowCount } = await this.store.query('DELETE FROM cp_idempotency WHERE subject = $1 AND operation = $2 AND key = $3 AND event_id = $4', [s.subject, s.operation, s.key, eventId], 'release idempotency key');
    return rowCount === 1;
  }

  /** Deletes up to `limit` expired claims; returns how many. */
  async sweepExpired(limit: number): Promise<number> {
    const { rowCount } = await this.store.query(
      'DELETE FROM cp_idempotency WHERE ctid IN (SELECT ctid FROM cp_idempotency WHERE expires_at <= now() LIMIT $1)',
      [limit],
      'delete expired idempotency keys',
    );
    return rowCount ?? 0;
  }
}
