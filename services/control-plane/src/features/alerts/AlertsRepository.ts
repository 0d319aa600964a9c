import type { DriftAlert } from '@livescope/contracts';
import type { Store } from '@livescope/store';
import type { PgClient } from '../../persistence/Database.js';

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

/**
 * `cp_alerts` and `cp_alert_acks`: drift alerts stored from the alerts topic (a replayed alert is a
 * no-op), ordered by `seq` for paging and stream resumption, and who acknowledged which.
 */
export class AlertsRepository {
  constructor(private readonly store: Store) {}

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
}
