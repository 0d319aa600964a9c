import type { Store } from '@livescope/store';
import type { PolicyFileText } from '@livescope/scope-engine';
import { isoOrNull } from '../../persistence/isoOrNull.js';

/** A publication request as stored in `cp_policy_requests`. */
export interface RequestRow {
  readonly requestId: string;
  readonly hash: string;
  readonly files: PolicyFileText[];
  readonly status: 'pending' | 'published' | 'rejected';
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly reason: string | null;
  readonly rollbackOf: number | null;
  readonly approvedBy: string | null;
  readonly decidedAt: string | null;
  readonly version: number | null;
  readonly eventId: string | null;
  readonly offsets: Record<string, string> | null;
}

/** A `policies.published` event the workers applied, from the audit log (partition 0 records broadcasts once). */
export interface AppliedRow {
  /** Its place in the audit log (partition 0). */
  readonly seq: number;
  readonly version: number;
  readonly files: PolicyFileText[];
  readonly publishedBy: string;
  readonly at: string;
  readonly eventId: string;
}

interface DbRequest {
  request_id: string;
  content_hash: string;
  files: string;
  status: RequestRow['status'];
  requested_by: string;
  requested_at: Date;
  reason: string | null;
  rollback_of: string | null;
  approved_by: string | null;
  decided_at: Date | null;
  version: string | null;
  event_id: string | null;
  offsets: string | null;
}

const toRow = (r: DbRequest): RequestRow => ({
  requestId: r.request_id,
  hash: r.content_hash,
  files: JSON.parse(r.files) as PolicyFileText[],
  status: r.status,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at.toISOString(),
  reason: r.reason,
  rollbackOf: r.rollback_of === null ? null : Number(r.rollback_of),
  approvedBy: r.approved_by,
  decidedAt: isoOrNull(r.decided_at),
  version: r.version === null ? null : Number(r.version),
  eventId: r.event_id,
  offsets: r.offsets === null ? null : (JSON.parse(r.offsets) as Record<string, string>),
});

const COLUMNS = 'request_id, content_hash, files, status, requested_by, requested_at, reason, rollback_of, approved_by, decided_at, version, event_id, offsets';

/** The policies feature's tables (`cp_policy_requests`) and its reads of the workers' audit log. */
export class PoliciesRepository {
  constructor(readonly store: Store) {}

  async insertRequest(r: { requestId: string; hash: string; files: readonly PolicyFileText[]; requestedBy: string; reason: string | null; rollbackOf: number | null }): Promise<void> {
    await this.store.query(
      `INSERT INTO cp_policy_requests (request_id, content_hash, files, status, requested_by, requested_at, reason, rollback_of) VALUES ($1, $2, $3, 'pending', $4, now(), $5, $6)`,
      [r.requestId, r.hash, JSON.stringify(r.files), r.requestedBy, r.reason, r.rollbackOf],
      'insert policy request',
    );
  }

  async request(requestId: string): Promise<RequestRow | undefined> {
    const { rows } = await this.store.query<DbRequest>(`SELECT ${COLUMNS} FROM cp_policy_requests WHERE request_id = $1`, [requestId], 'read policy request');
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async pendingByHash(hash: string): Promise<RequestRow | undefined> {
    const { rows } = await this.store.query<DbRequest>(`SELECT ${COLUMNS} FROM cp_policy_requests WHERE content_hash = $1 AND status = 'pending' ORDER BY requested_at DESC LIMIT 1`, [hash], 'read pending policy request');
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Newest first; after `afterId`, the requests older than that one (compared in the database, at its full precision). */
  async requests(status: RequestRow['status'] | undefined, limit: number, afterId?: string): Promise<RequestRow[]> {
    const { rows } = await this.store.query<DbRequest>(
      `SELECT ${COLUMNS} FROM cp_policy_requests
        WHERE ($1::text IS NULL OR status = $1)
          AND ($3::text IS NULL OR (requested_at, request_id) < (SELECT requested_at, request_id FROM cp_policy_requests WHERE request_id = $3))
        ORDER BY requested_at DESC, request_id DESC LIMIT $2`,
      [status ?? null, limit, afterId ?? null],
      'list policy requests',
    );
    return rows.map(toRow);
  }

  async requestsByVersion(versions: readonly number[]): Promise<Map<number, RequestRow>> {
    if (versions.length === 0) return new Map();
    const { rows } = await this.store.query<DbRequest>(`SELECT ${COLUMNS} FROM cp_policy_requests WHERE version = ANY($1::bigint[])`, [versions.map(String)], 'read policy requests by version');
    return new Map(rows.map((r) => [Number(r.version), toRow(r)]));
  }

  /** The highest version the control plane ever assigned (0: none). */
  async maxVersion(): Promise<number> {
    const { rows } = await this.store.query<{ v: string | null }>('SELECT max(version)::text AS v FROM cp_policy_requests', [], 'read policy versions');
    return rows[0]?.v ? Number(rows[0].v) : 0;
  }

  /**
   * Claims the next version for a pending request and marks it published, under a transaction-level
   * advisory lock so that two instances never assign the same version. `floor` is the highest
   * version the workers hold. Returns the version, or undefined when the request was no longer pending.
   */
  async assignVersion(requestId: string, floor: number, approvedBy: string | null, eventId: string): Promise<number | undefined> {
    const client = await this.store.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('livescope-policy-publish-' || current_schema()))`);
      const { rows } = await client.query<{ v: string | null }>('SELECT max(version)::text AS v FROM cp_policy_requests');
      const version = Math.max(floor, rows[0]?.v ? Number(rows[0].v) : 0) + 1;
      const updated = await client.query(
        `UPDATE cp_policy_requests SET status = 'published', version = $2, approved_by = $3, decided_at = now(), event_id = $4 WHERE request_id = $1 AND status = 'pending'`,
        [requestId, version, approvedBy, eventId],
      );
      await client.query('COMMIT');
      return updated.rowCount === 1 ? version : undefined;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** A publication Kafka refused: back to pending without a version, so that it can be retried. */
  async unassign(requestId: string): Promise<void> {
    await this.store.query(`UPDATE cp_policy_requests SET status = 'pending', version = NULL, approved_by = NULL, decided_at = NULL, event_id = NULL WHERE request_id = $1`, [requestId], 'undo policy publication');
  }

  async recordOffsets(requestId: string, offsets: Record<string, string>): Promise<void> {
    await this.store.query('UPDATE cp_policy_requests SET offsets = $2 WHERE request_id = $1', [requestId, JSON.stringify(offsets)], 'record policy offsets');
  }

  async reject(requestId: string, by: string, reason: string | null): Promise<boolean> {
    const r = await this.store.query(`UPDATE cp_policy_requests SET status = 'rejected', approved_by = $2, decided_at = now(), reason = COALESCE($3, reason) WHERE request_id = $1 AND status = 'pending'`, [requestId, by, reason], 'reject policy request');
    return r.rowCount === 1;
  }

  /** Publications the workers applied, newest first (broadcast rows have no identity: the audit index on identity_id finds them). */
  async applied(limit: number, version?: number, beforeSeq?: number): Promise<AppliedRow[]> {
    const { rows } = await this.store.query<{ seq: string; at: Date; actor: string | null; event_id: string | null; payload: string }>(
      `SELECT seq, at, actor, event_id, payload FROM audit_log
        WHERE identity_id IS NULL AND partition = 0 AND kind = 'policies.published'
          AND ($2::bigint IS NULL OR (payload::jsonb -> 'data' ->> 'version')::bigint = $2)
          AND ($3::bigint IS NULL OR seq < $3)
        ORDER BY seq DESC LIMIT $1`,
      [limit, version ?? null, beforeSeq ?? null],
      'read policy publications',
    );
    return rows.map((r) => {
      const event = JSON.parse(r.payload) as { data: { version: number; policies: PolicyFileText[]; publishedBy: string } };
      return { seq: Number(r.seq), version: event.data.version, files: event.data.policies, publishedBy: r.actor ?? event.data.publishedBy, at: r.at.toISOString(), eventId: r.event_id ?? '' };
    });
  }
}
