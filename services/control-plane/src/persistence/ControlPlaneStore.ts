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

export interface AlertRow {
  readonly seq: string;
  readonly receivedAt: string;
  readonly alert: DriftAlert;
}

export interface AlertFilter {
  readonly types?: readonly string[];
  readonly severities?: readonly string[];
  readonly identityId?: string;
  readonly enforcerId?: string;
  readonly since?: string;
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
    const { rows } = await this.store.query<{ partition: number; seq: string; at: Date; kind: string; identity_id: string | null; version: string | null; actor: string | null; event_id: string | null; payload: string }>(
      `SELECT partition, seq, at, kind, identity_id, version, actor, event_id, payload FROM audit_log
        WHERE identity_id = $1 AND kind = ANY($2)
          AND ($3::timestamptz IS NULL OR (at, partition, seq) < ($3::timestamptz, $4::integer, $5::bigint))
        ORDER BY at DESC, partition DESC, seq DESC LIMIT $6`,
      [identityId, kinds, before?.at ?? null, before?.partition ?? 0, before?.seq ?? 0, limit],
      'read history',
    );
    return rows.map((r) => ({ partition: r.partition, seq: Number(r.seq), at: r.at.toISOString(), kind: r.kind, identityId: r.identity_id, version: r.version === null ? null : Number(r.version), actor: r.actor, eventId: r.event_id, payload: r.payload }));
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
    const { rows } = await this.store.query<{ seq: string; body: string; received_at: Date }>(
      `SELECT seq, body, received_at FROM cp_alerts
        WHERE ($1::text[] IS NULL OR type = ANY($1)) AND ($2::text[] IS NULL OR severity = ANY($2))
          AND ($3::text IS NULL OR identity_id = $3) AND ($4::text IS NULL OR enforcer_id = $4)
          AND ($5::timestamptz IS NULL OR at >= $5)
          AND ($6::bigint IS NULL OR seq < $6) AND ($7::bigint IS NULL OR seq > $7)
        ORDER BY seq ${ascending ? 'ASC' : 'DESC'} LIMIT $8`,
      [f.types ?? null, f.severities ?? null, f.identityId ?? null, f.enforcerId ?? null, f.since ?? null, f.beforeSeq ?? null, f.afterSeq ?? null, f.limit],
      'read alerts',
    );
    return rows.map((r) => ({ seq: r.seq, receivedAt: r.received_at.toISOString(), alert: JSON.parse(r.body) as DriftAlert }));
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
