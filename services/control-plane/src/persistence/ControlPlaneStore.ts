import type { DriftAlert } from '@livescope/contracts';
import { classifyPgError, type AuditRecord, type Store } from '@livescope/store';
import type pg from 'pg';
import { cpMigrations } from './cpMigrations.js';

export type PgClient = pg.PoolClient;

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

export interface PartitionRow {
  readonly partition: number;
  readonly nextOffset: bigint;
  readonly globals: string | null;
  readonly policies: string | null;
}

export interface AlertAckRow {
  readonly by: string;
  readonly at: string;
  readonly note: string | null;
}

export interface AlertRow {
  readonly seq: string;
  readonly receivedAt: string;
  readonly alert: DriftAlert;
  readonly ack: AlertAckRow | null;
}

/** An acknowledgement in the order it was made (`ackSeq`), for alert streams. */
export interface AckEventRow extends AlertAckRow {
  readonly ackSeq: string;
  readonly seq: string;
  readonly alertId: string;
}

export interface IdentityFilter {
  /** Case-insensitive substring of the id. */
  readonly q?: string | undefined;
  readonly kind?: string | undefined;
  readonly namespace?: string | undefined;
  readonly status?: string | undefined;
}

export interface IdentityRow {
  readonly identityId: string;
  readonly partition: number;
  readonly version: number;
  readonly status: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly scopeSize: number;
  readonly sessions: number;
  readonly riskScore: number;
  readonly updatedAt: string;
}

/** One group of the fleet census: identities sharing status, kind, namespace and scope size. */
export interface CensusRow {
  readonly status: string;
  readonly kind: string;
  readonly namespace: string;
  readonly scopeSize: number;
  readonly identities: number;
  readonly sessions: number;
}

/** Position in the audit log: the last sequence number read per partition. */
export type AuditCursor = ReadonlyMap<number, number>;

export interface AlertFilter {
  readonly types?: readonly string[];
  readonly severities?: readonly string[];
  readonly identityId?: string;
  readonly enforcerId?: string;
  readonly since?: string;
  readonly acknowledged?: boolean;
  /** Newest first, strictly before this seq. */
  readonly beforeSeq?: string;
  /** Oldest first, strictly after this seq (streams). */
  readonly afterSeq?: string;
  readonly limit: number;
}

export interface EnforcerUpdate {
  readonly enforcerId: string;
  readonly lastSeen: string;
  readonly identities: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lastApplied: { readonly identityId: string; readonly version: number; readonly kind: string; readonly appliedAt: string; readonly producedAt: string } | null;
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
}

export interface EnforcerRow {
  readonly enforcerId: string;
  readonly firstSeen: string | null;
  readonly lastSeen: string;
  readonly identities: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lastVersionAt: string | null;
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  readonly lastApplied: { readonly identityId: string; readonly version: number; readonly kind: string; readonly appliedAt: string; readonly producedAt: string | null } | null;
}

export interface HistoryCursor {
  readonly at: string;
  readonly partition: number;
  readonly seq: number;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

interface AuditSqlRow {
  partition: number;
  seq: string;
  at: Date;
  kind: string;
  identity_id: string | null;
  version: string | null;
  actor: string | null;
  event_id: string | null;
  payload: string;
}

const auditRecord = (r: AuditSqlRow): AuditRecord => ({ partition: r.partition, seq: Number(r.seq), at: r.at.toISOString(), kind: r.kind, identityId: r.identity_id, version: r.version === null ? null : Number(r.version), actor: r.actor, eventId: r.event_id, payload: r.payload });

/**
 * An identity state as jsonb. Permission keys in it hold NUL separators, which JSON escapes as
 * \u0000 but jsonb refuses: those escapes become \u001f first (only keys change, never a field read here).
 */
const STATE_JSONB = "replace(i.state, '\\u0000', '\\u001f')::jsonb";

/** Filters of `listIdentities` and `countIdentities` over `i` (identity_state) and `j.s` (its state as jsonb); four parameters from $`first`. */
const identityFilter = (first: number): string => {
  const [q, kind, ns, status] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
  return `(${q}::text IS NULL OR strpos(lower(i.identity_id), lower(${q})) > 0) AND (${kind}::text IS NULL OR j.s->>'k' = ${kind})
          AND (${ns}::text IS NULL OR j.s->>'ns' = ${ns}) AND (${status}::text IS NULL OR i.status = ${status})`;
};
const identityFilterParams = (f: IdentityFilter): (string | null)[] => [f.q ?? null, f.kind ?? null, f.namespace ?? null, f.status ?? null];

/**
 * The control plane's reads and writes in PostgreSQL: its own `cp_` tables (migrated here), the
 * store's views it reads (identity states, partition globals, the audit log) and `enforcer_status`,
 * which it fills.
 */
export class ControlPlaneStore {
  constructor(readonly store: Store) {}

  /** Applies missing control-plane migrations in order, under an advisory lock. */
  async migrate(): Promise<number[]> {
    const client = await this.connect('migrate control plane');
    const lock = `livescope-cp-migrate-${this.store.schema}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lock]);
      await client.query('CREATE TABLE IF NOT EXISTS cp_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM cp_schema_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const known = Math.max(...cpMigrations.map((m) => m.version));
      const newest = Math.max(0, ...applied);
      if (newest > known) throw new Error(`control-plane tables in ${this.store.schema} are at version ${newest}, newer than this code (${known}); upgrade livescope`);
      const done: number[] = [];
      for (const m of cpMigrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO cp_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
          done.push(m.version);
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`control-plane migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => undefined);
      client.release();
    }
  }

  /** Runs `fn` in one transaction; errors `fn` throws pass through unchanged after the rollback. */
  async transaction<T>(what: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
    const client = await this.connect(what);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private async connect(what: string): Promise<PgClient> {
    try {
      return await this.store.pool.connect();
    } catch (e) {
      throw classifyPgError(e, what);
    }
  }

  // --- orders ------------------------------------------------------------------------------------
  async insertOrder(o: OrderRow): Promise<void> {
    await this.store.query(
      'INSERT INTO cp_orders (order_id, kind, actor, reason, target, event_id, event, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [o.orderId, o.kind, o.actor, o.reason, o.target, o.eventId, o.event, o.issuedAt, o.expiresAt],
      'record order',
    );
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
      expiresAt: iso(r.expires_at),
      offsets: r.offsets === null ? null : (JSON.parse(r.offsets) as Record<string, string>),
      lift:
        r.lift_event_id === null
          ? null
          : { eventId: r.lift_event_id, actor: r.lift_actor ?? '', reason: r.lift_reason, at: iso(r.lifted_at) ?? r.issued_at.toISOString(), offsets: r.lift_offsets === null ? null : (JSON.parse(r.lift_offsets) as Record<string, string>) },
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

  async setLiftOffsets(orderId: string, offsets: Record<string, string>): Promise<void> {
    await this.store.query('UPDATE cp_orders SET lift_offsets = $2 WHERE order_id = $1', [orderId, JSON.stringify(offsets)], 'record lift offsets');
  }

  async releaseLift(orderId: string, eventId: string): Promise<void> {
    await this.store.query('UPDATE cp_orders SET lift_event_id = NULL, lift_actor = NULL, lift_reason = NULL, lifted_at = NULL WHERE order_id = $1 AND lift_event_id = $2', [orderId, eventId], 'forget unpublished lift');
  }

  // --- the workers' state of record ----------------------------------------------------------------
  async partitionsOf(topic: string): Promise<PartitionRow[]> {
    const { rows } = await this.store.query<{ partition: number; next_offset: string; globals: string | null; policies: string | null }>(
      'SELECT partition, next_offset, globals, policies FROM partition_state WHERE topic = $1 ORDER BY partition',
      [topic],
      'read partitions',
    );
    return rows.map((r) => ({ partition: r.partition, nextOffset: BigInt(r.next_offset), globals: r.globals, policies: r.policies }));
  }

  async partitionPositions(topic: string): Promise<Map<number, bigint>> {
    const { rows } = await this.store.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM partition_state WHERE topic = $1', [topic], 'read partition positions');
    return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  }

  async identityState(identityId: string): Promise<{ partition: number; state: string } | undefined> {
    return this.store.identityState(identityId);
  }

  /** The audit rows of an identity, newest first, strictly before `before`. */
  async history(identityId: string, kinds: readonly string[], before: HistoryCursor | undefined, limit: number): Promise<AuditRecord[]> {
    const { rows } = await this.store.query<AuditSqlRow>(
      `SELECT partition, seq, at, kind, identity_id, version, actor, event_id, payload FROM audit_log
        WHERE identity_id = $1 AND kind = ANY($2)
          AND ($3::timestamptz IS NULL OR (at, partition, seq) < ($3::timestamptz, $4::integer, $5::bigint))
        ORDER BY at DESC, partition DESC, seq DESC LIMIT $6`,
      [identityId, kinds, before?.at ?? null, before?.partition ?? 0, before?.seq ?? 0, limit],
      'read history',
    );
    return rows.map(auditRecord);
  }

  async scopeChangeAt(identityId: string, version: number): Promise<AuditRecord | undefined> {
    const [row] = await this.store.auditOf(identityId, { kinds: ['scope.change'], version, limit: 1 });
    return row;
  }

  // --- alerts ------------------------------------------------------------------------------------
  /** Inserts alerts (a replayed alert id is a no-op); returns those that were new. */
  async insertAlerts(client: PgClient, alerts: readonly DriftAlert[]): Promise<{ type: string; severity: string }[]> {
    if (alerts.length === 0) return [];
    const { rows } = await client.query<{ type: string; severity: string }>(
      `INSERT INTO cp_alerts (alert_id, type, severity, identity_id, enforcer_id, at, summary, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[])
       ON CONFLICT (alert_id) DO NOTHING
       RETURNING type, severity`,
      [
        alerts.map((a) => a.alertId),
        alerts.map((a) => a.type),
        alerts.map((a) => a.severity),
        alerts.map((a) => a.identityId ?? null),
        alerts.map((a) => a.enforcerId ?? null),
        alerts.map((a) => a.at),
        alerts.map((a) => a.summary),
        alerts.map((a) => JSON.stringify(a)),
      ],
    );
    return rows;
  }

  /** Id of the newest stored alert ('0' when none): where a stream without Last-Event-ID starts. */
  async latestAlertSeq(): Promise<string> {
    const { rows } = await this.store.query<{ seq: string | null }>('SELECT max(seq)::text AS seq FROM cp_alerts', [], 'read newest alert');
    return rows[0]?.seq ?? '0';
  }

  async listAlerts(f: AlertFilter): Promise<AlertRow[]> {
    const ascending = f.afterSeq !== undefined;
    const { rows } = await this.store.query<{ seq: string; body: string; received_at: Date; acked_by: string | null; acked_at: Date | null; note: string | null }>(
      `SELECT a.seq, a.body, a.received_at, k.acked_by, k.acked_at, k.note FROM cp_alerts a LEFT JOIN cp_alert_acks k ON k.alert_seq = a.seq
        WHERE ($1::text[] IS NULL OR a.type = ANY($1)) AND ($2::text[] IS NULL OR a.severity = ANY($2))
          AND ($3::text IS NULL OR a.identity_id = $3) AND ($4::text IS NULL OR a.enforcer_id = $4)
          AND ($5::timestamptz IS NULL OR a.at >= $5)
          AND ($6::bigint IS NULL OR a.seq < $6) AND ($7::bigint IS NULL OR a.seq > $7)
          AND ($9::boolean IS NULL OR (k.alert_seq IS NOT NULL) = $9)
        ORDER BY a.seq ${ascending ? 'ASC' : 'DESC'} LIMIT $8`,
      [f.types ?? null, f.severities ?? null, f.identityId ?? null, f.enforcerId ?? null, f.since ?? null, f.beforeSeq ?? null, f.afterSeq ?? null, f.limit, f.acknowledged ?? null],
      'read alerts',
    );
    return rows.map((r) => ({
      seq: r.seq,
      receivedAt: r.received_at.toISOString(),
      alert: JSON.parse(r.body) as DriftAlert,
      ack: r.acked_by === null || r.acked_at === null ? null : { by: r.acked_by, at: r.acked_at.toISOString(), note: r.note },
    }));
  }

  /**
   * Acknowledges an alert. `created` is false when it was acknowledged already (the existing
   * acknowledgement is returned); undefined when there is no such alert.
   */
  async acknowledgeAlert(seq: string, by: string, note: string | null): Promise<{ created: boolean; ack: AckEventRow } | undefined> {
    const inserted = await this.store.query<{ ack_seq: string; acked_at: Date }>(
      `INSERT INTO cp_alert_acks (alert_seq, acked_by, note) SELECT seq, $2, $3 FROM cp_alerts WHERE seq = $1
       ON CONFLICT (alert_seq) DO NOTHING RETURNING ack_seq, acked_at`,
      [seq, by, note],
      'acknowledge alert',
    );
    const { rows } = await this.store.query<{ ack_seq: string; alert_id: string; acked_by: string; acked_at: Date; note: string | null }>(
      'SELECT k.ack_seq, a.alert_id, k.acked_by, k.acked_at, k.note FROM cp_alert_acks k JOIN cp_alerts a ON a.seq = k.alert_seq WHERE k.alert_seq = $1',
      [seq],
      'read acknowledgement',
    );
    const r = rows[0];
    if (!r) return undefined;
    return { created: inserted.rowCount === 1, ack: { ackSeq: r.ack_seq, seq, alertId: r.alert_id, by: r.acked_by, at: r.acked_at.toISOString(), note: r.note } };
  }

  /** Sequence number of the newest acknowledgement ('0' when none). */
  async latestAckSeq(): Promise<string> {
    const { rows } = await this.store.query<{ seq: string | null }>('SELECT max(ack_seq)::text AS seq FROM cp_alert_acks', [], 'read newest acknowledgement');
    return rows[0]?.seq ?? '0';
  }

  /** Acknowledgements made after `ackSeq`, oldest first. */
  async acknowledgementsAfter(ackSeq: string, limit: number): Promise<AckEventRow[]> {
    const { rows } = await this.store.query<{ ack_seq: string; alert_seq: string; alert_id: string; acked_by: string; acked_at: Date; note: string | null }>(
      `SELECT k.ack_seq, k.alert_seq, a.alert_id, k.acked_by, k.acked_at, k.note FROM cp_alert_acks k JOIN cp_alerts a ON a.seq = k.alert_seq
        WHERE k.ack_seq > $1 ORDER BY k.ack_seq LIMIT $2`,
      [ackSeq, limit],
      'read acknowledgements',
    );
    return rows.map((r) => ({ ackSeq: r.ack_seq, seq: r.alert_seq, alertId: r.alert_id, by: r.acked_by, at: r.acked_at.toISOString(), note: r.note }));
  }

  /** Unacknowledged alerts at or after `since`. */
  async unacknowledgedAlerts(since: string): Promise<number> {
    const { rows } = await this.store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM cp_alerts a WHERE a.at >= $1 AND NOT EXISTS (SELECT 1 FROM cp_alert_acks k WHERE k.alert_seq = a.seq)',
      [since],
      'count unacknowledged alerts',
    );
    return Number(rows[0]?.n ?? 0);
  }

  // --- the fleet (the workers' identity states) ----------------------------------------------------
  /**
   * A page of identities in id order, after `after`, matching the filter. The state column is the
   * scope engine's JSON (see scope-engine `stateCodec`): kind `k`, namespace `ns`, name `n`, owner
   * `o`, scope `sc`, sessions `s`, risk `r`. Walking the primary key and stopping at `limit` keeps
   * a page cheap however large the fleet.
   */
  async listIdentities(f: IdentityFilter, after: string | undefined, limit: number): Promise<IdentityRow[]> {
    const { rows } = await this.store.query<{ identity_id: string; partition: number; version: string; status: string; updated_at: Date; kind: string | null; name: string | null; namespace: string | null; owner: string | null; scope_size: number | null; sessions: number | null; risk: number | null }>(
      `SELECT i.identity_id, i.partition, i.version, i.status, i.updated_at, j.s->>'k' AS kind, j.s->>'n' AS name, j.s->>'ns' AS namespace, j.s->>'o' AS owner,
              jsonb_array_length(j.s->'sc') AS scope_size, jsonb_array_length(j.s->'s') AS sessions, (j.s->>'r')::float8 AS risk
         FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j
        WHERE ($1::text IS NULL OR i.identity_id > $1) AND ${identityFilter(2)}
        ORDER BY i.identity_id LIMIT $6`,
      [after ?? null, ...identityFilterParams(f), limit],
      'list identities',
    );
    return rows.map((r) => ({
      identityId: r.identity_id,
      partition: r.partition,
      version: Number(r.version),
      status: r.status,
      kind: r.kind ?? 'workload',
      name: r.name ?? r.identity_id,
      namespace: r.namespace ?? '',
      owner: r.owner ?? '',
      scopeSize: r.scope_size ?? 0,
      sessions: r.sessions ?? 0,
      riskScore: r.risk ?? 0,
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  async countIdentities(f: IdentityFilter): Promise<number> {
    const { rows } = await this.store.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j WHERE ${identityFilter(1)}`,
      identityFilterParams(f),
      'count identities',
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The fleet grouped by status, kind, namespace and scope size (one scan of identity_state). */
  async census(): Promise<CensusRow[]> {
    const { rows } = await this.store.query<{ status: string; kind: string | null; namespace: string | null; scope_size: number | null; identities: string; sessions: string | null }>(
      `SELECT i.status, j.s->>'k' AS kind, j.s->>'ns' AS namespace, jsonb_array_length(j.s->'sc') AS scope_size,
              count(*)::text AS identities, sum(jsonb_array_length(j.s->'s'))::text AS sessions
         FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j
        GROUP BY 1, 2, 3, 4`,
      [],
      'fleet census',
    );
    return rows.map((r) => ({ status: r.status, kind: r.kind ?? 'workload', namespace: r.namespace ?? '', scopeSize: r.scope_size ?? 0, identities: Number(r.identities), sessions: Number(r.sessions ?? 0) }));
  }

  // --- scope changes and revocations, fleet-wide (the audit log) --------------------------------------
  /** The newest audit sequence number of every partition the workers hold state for. */
  async auditHeads(topic: string): Promise<Map<number, number>> {
    const { rows } = await this.store.query<{ partition: number; seq: string | null }>(
      'SELECT p.partition, (SELECT max(a.seq) FROM audit_log a WHERE a.partition = p.partition)::text AS seq FROM partition_state p WHERE p.topic = $1 ORDER BY p.partition',
      [topic],
      'read audit heads',
    );
    return new Map(rows.map((r) => [r.partition, Number(r.seq ?? 0)]));
  }

  /** The newest audit rows of the given kinds, at or before `heads`, newest first. */
  async latestAudit(heads: AuditCursor, kinds: readonly string[], limit: number): Promise<AuditRecord[]> {
    const parts = [...heads.keys()];
    const { rows } = await this.store.query<AuditSqlRow>(
      `SELECT a.partition, a.seq, a.at, a.kind, a.identity_id, a.version, a.actor, a.event_id, a.payload
         FROM unnest($1::int[], $2::bigint[]) AS c(partition, head)
         CROSS JOIN LATERAL (SELECT * FROM audit_log a WHERE a.partition = c.partition AND a.seq <= c.head AND a.kind = ANY($3) ORDER BY a.seq DESC LIMIT $4) a
        ORDER BY a.at DESC, a.partition DESC, a.seq DESC LIMIT $4`,
      [parts, parts.map((p) => heads.get(p)!), kinds, limit],
      'read latest changes',
    );
    return rows.map(auditRecord);
  }

  /**
   * Audit rows of the given kinds after `cursor` (partitions it does not name: from their start),
   * oldest first per partition, at most `limit` per partition; and where each partition's read
   * ends. Per partition the workers commit one batch after another, so every row up to the
   * newest sequence number seen in this statement's snapshot is visible in it: when fewer than
   * `limit` rows came back, the partition has been read up to that number.
   */
  async auditAfter(topic: string, cursor: AuditCursor, kinds: readonly string[], identityId: string | undefined, limit: number): Promise<{ rows: AuditRecord[]; readTo: Map<number, number> }> {
    const { rows } = await this.store.query<AuditSqlRow & { head: string | null; rank: string }>(
      `WITH parts AS (
         SELECT p.partition, COALESCE(c.after, 0) AS after, (SELECT max(x.seq) FROM audit_log x WHERE x.partition = p.partition) AS head
           FROM partition_state p LEFT JOIN unnest($2::int[], $3::bigint[]) AS c(partition, after) ON c.partition = p.partition
          WHERE p.topic = $1)
       SELECT parts.partition, parts.head::text AS head, a.seq, a.at, a.kind, a.identity_id, a.version, a.actor, a.event_id, a.payload
         FROM parts LEFT JOIN LATERAL (
           SELECT * FROM audit_log a WHERE a.partition = parts.partition AND a.seq > parts.after AND a.seq <= parts.head AND a.kind = ANY($4)
              AND ($5::text IS NULL OR a.identity_id = $5)
            ORDER BY a.seq LIMIT $6) a ON true`,
      [topic, [...cursor.keys()], [...cursor.values()], kinds, identityId ?? null, limit],
      'read changes',
    );
    const readTo = new Map<number, number>();
    const found: AuditRecord[] = [];
    const perPartition = new Map<number, number>();
    for (const r of rows) {
      const head = Number(r.head ?? 0);
      if (r.seq !== null) {
        found.push(auditRecord(r));
        perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
      }
      if (!readTo.has(r.partition)) readTo.set(r.partition, Math.max(head, cursor.get(r.partition) ?? 0));
    }
    for (const [p, n] of perPartition) {
      // A full page: the partition was read up to its last row only.
      if (n >= limit) readTo.set(p, Math.max(...found.filter((f) => f.partition === p).map((f) => f.seq)));
    }
    for (const [p, seq] of cursor) if (!readTo.has(p)) readTo.set(p, seq);
    found.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.partition - b.partition || a.seq - b.seq));
    return { rows: found, readTo };
  }

  // --- enforcement points ---------------------------------------------------------------------------
  async applyEnforcerUpdates(client: PgClient, updates: readonly EnforcerUpdate[]): Promise<void> {
    for (const u of updates) {
      await client.query(
        `INSERT INTO enforcer_status AS s (enforcer_id, last_seen, identities, applied, rejected, last_version_at, lag_p50_ms, lag_p99_ms, lag_max_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (enforcer_id) DO UPDATE SET
           last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
           identities = CASE WHEN EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.identities ELSE s.identities END,
           applied = s.applied + EXCLUDED.applied,
           rejected = s.rejected + EXCLUDED.rejected,
           last_version_at = GREATEST(s.last_version_at, EXCLUDED.last_version_at),
           lag_p50_ms = COALESCE(EXCLUDED.lag_p50_ms, s.lag_p50_ms),
           lag_p99_ms = COALESCE(EXCLUDED.lag_p99_ms, s.lag_p99_ms),
           lag_max_ms = COALESCE(EXCLUDED.lag_max_ms, s.lag_max_ms)`,
        [u.enforcerId, u.lastSeen, u.identities, u.applied, u.rejected, u.lastApplied?.appliedAt ?? null, u.lag?.p50Ms ?? null, u.lag?.p99Ms ?? null, u.lag?.maxMs ?? null],
      );
      const l = u.lastApplied;
      await client.query(
        `INSERT INTO cp_enforcers AS e (enforcer_id, first_seen, last_identity_id, last_version, last_kind, last_applied_at, last_produced_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (enforcer_id) DO UPDATE SET
           first_seen = LEAST(e.first_seen, EXCLUDED.first_seen),
           last_identity_id = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_identity_id ELSE e.last_identity_id END,
           last_version = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_version ELSE e.last_version END,
           last_kind = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_kind ELSE e.last_kind END,
           last_produced_at = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_produced_at ELSE e.last_produced_at END,
           last_applied_at = GREATEST(e.last_applied_at, EXCLUDED.last_applied_at)`,
        [u.enforcerId, u.lastSeen, l?.identityId ?? null, l?.version ?? null, l?.kind ?? null, l?.appliedAt ?? null, l?.producedAt ?? null],
      );
    }
  }

  async listEnforcers(): Promise<EnforcerRow[]> {
    const { rows } = await this.store.query<{
      enforcer_id: string;
      last_seen: Date;
      identities: number;
      applied: string;
      rejected: string;
      last_version_at: Date | null;
      lag_p50_ms: number | null;
      lag_p99_ms: number | null;
      lag_max_ms: number | null;
      first_seen: Date | null;
      last_identity_id: string | null;
      last_version: string | null;
      last_kind: string | null;
      last_applied_at: Date | null;
      last_produced_at: Date | null;
    }>(
      `SELECT s.*, e.first_seen, e.last_identity_id, e.last_version, e.last_kind, e.last_applied_at, e.last_produced_at
         FROM enforcer_status s LEFT JOIN cp_enforcers e USING (enforcer_id) ORDER BY s.enforcer_id`,
      [],
      'read enforcers',
    );
    return rows.map((r) => ({
      enforcerId: r.enforcer_id,
      firstSeen: iso(r.first_seen),
      lastSeen: r.last_seen.toISOString(),
      identities: r.identities,
      applied: Number(r.applied),
      rejected: Number(r.rejected),
      lastVersionAt: iso(r.last_version_at),
      lag: r.lag_p50_ms === null || r.lag_p99_ms === null || r.lag_max_ms === null ? null : { p50Ms: r.lag_p50_ms, p99Ms: r.lag_p99_ms, maxMs: r.lag_max_ms },
      lastApplied:
        r.last_identity_id === null || r.last_version === null || r.last_applied_at === null
          ? null
          : { identityId: r.last_identity_id, version: Number(r.last_version), kind: r.last_kind ?? 'scope.change', appliedAt: r.last_applied_at.toISOString(), producedAt: iso(r.last_produced_at) },
    }));
  }

  // --- consumer offsets ----------------------------------------------------------------------------
  /** Next offset stored for a consumed partition; -1 when none was ever stored. */
  async loadOffset(consumer: string, topic: string, partition: number): Promise<bigint> {
    const { rows } = await this.store.query<{ next_offset: string }>('SELECT next_offset FROM cp_offsets WHERE consumer = $1 AND topic = $2 AND partition = $3', [consumer, topic, partition], 'read consumer offset');
    return rows[0] ? BigInt(rows[0].next_offset) : -1n;
  }

  /** Moves a partition's offset from `expected` to `next`; false when another instance moved it (fenced). */
  async advanceOffset(client: PgClient, consumer: string, topic: string, partition: number, expected: bigint, next: bigint): Promise<boolean> {
    const { rowCount } = await client.query(
      `INSERT INTO cp_offsets AS o (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $5)
       ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE o.next_offset = $4`,
      [consumer, topic, partition, expected.toString(), next.toString()],
    );
    return rowCount === 1;
  }
}
