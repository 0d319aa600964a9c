import type { AuditRecord, Store } from '@livescope/store';
import type { AuditKey } from '../../audit/auditKey.js';
import { auditRecord, type AuditSqlRow } from '../../persistence/auditRows.js';

/** Position in the audit log: the last sequence number read per partition. */
export type AuditCursor = ReadonlyMap<number, number>;

/** Scope changes and revocations fleet-wide, read from the workers' audit log by position. */
export class ChangesRepository {
  constructor(private readonly store: Store) {}

  /** The newest audit sequence number of every partition the workers hold state for. */
  async auditHeads(topic: string): Promise<Map<number, number>> {
    const { rows } = await this.store.query<{ partition: number; seq: string | null }>(
      'SELECT p.partition, (SELECT max(a.seq) FROM audit_log a WHERE a.partition = p.partition)::text AS seq FROM partition_state p WHERE p.topic = $1 ORDER BY p.partition',
      [topic],
      'read audit heads',
    );
    return new Map(rows.map((r) => [r.partition, Number(r.seq ?? 0)]));
  }

  /** The newest audit rows of the given kinds, at or before `heads` and strictly before `before`, newest first. */
  async latestAudit(heads: AuditCursor, kinds: readonly string[], before: AuditKey | undefined, limit: number): Promise<AuditRecord[]> {
    const parts = [...heads.keys()];
    const { rows } = await this.store.query<AuditSqlRow>(
      `SELECT a.partition, a.seq, a.at, a.kind, a.identity_id, a.version, a.actor, a.event_id, a.payload
         FROM unnest($1::int[], $2::bigint[]) AS c(partition, head)
         CROSS JOIN LATERAL (SELECT * FROM audit_log a WHERE a.partition = c.partition AND a.seq <= c.head AND a.kind = ANY($3)
                               AND ($5::timestamptz IS NULL OR (a.at, a.partition, a.seq) < ($5::timestamptz, $6::integer, $7::bigint))
                             ORDER BY a.seq DESC LIMIT $4) a
        ORDER BY a.at DESC, a.partition DESC, a.seq DESC LIMIT $4`,
      [parts, parts.map((p) => heads.get(p)!), kinds, limit, before?.at ?? null, before?.partition ?? 0, before?.seq ?? 0],
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
}
