import pg from 'pg';
import { InteropError } from '../InteropError.js';
import type { OutboxEntry, PollResult, SsfStore, StreamRecord } from './SsfStore.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const MIGRATION = `
CREATE TABLE IF NOT EXISTS ssf_streams (
  stream_id text PRIMARY KEY,
  client_id text NOT NULL,
  status text NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS ssf_streams_client ON ssf_streams (client_id);
CREATE TABLE IF NOT EXISTS ssf_subjects (
  stream_id text NOT NULL REFERENCES ssf_streams (stream_id) ON DELETE CASCADE,
  subject_key text NOT NULL,
  subject jsonb NOT NULL,
  included boolean NOT NULL,
  PRIMARY KEY (stream_id, subject_key)
);
CREATE TABLE IF NOT EXISTS ssf_outbox (
  stream_id text NOT NULL REFERENCES ssf_streams (stream_id) ON DELETE CASCADE,
  jti text NOT NULL,
  set_jws text NOT NULL,
  event_type text NOT NULL,
  created_at bigint NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  delivered_at bigint,
  failed_at bigint,
  last_error text,
  PRIMARY KEY (stream_id, jti)
);
CREATE INDEX IF NOT EXISTS ssf_outbox_due ON ssf_outbox (next_attempt_at) WHERE failed_at IS NULL;
CREATE TABLE IF NOT EXISTS ssf_received (
  iss text NOT NULL,
  jti text NOT NULL,
  received_at bigint NOT NULL,
  PRIMARY KEY (iss, jti)
);
CREATE INDEX IF NOT EXISTS ssf_received_at ON ssf_received (received_at);
`;

interface OutboxRow {
  stream_id: string;
  jti: string;
  set_jws: string;
  event_type: string;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
}

const entry = (r: OutboxRow): OutboxEntry => ({
  streamId: r.stream_id,
  jti: r.jti,
  set: r.set_jws,
  eventType: r.event_type,
  createdAt: Number(r.created_at),
  attempts: r.attempts,
  nextAttemptAt: Number(r.next_attempt_at),
  ...(r.delivered_at === null ? {} : { deliveredAt: Number(r.delivered_at) }),
  ...(r.failed_at === null ? {} : { failedAt: Number(r.failed_at) }),
  ...(r.last_error === null ? {} : { lastError: r.last_error }),
});

/**
 * SsfStore in PostgreSQL (node-postgres), in its own tables (`ssf_*`) of the configured schema.
 * Push claims use `FOR UPDATE SKIP LOCKED`, so several instances share the outbox safely.
 */
export class PgSsfStore implements SsfStore {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(connectionString: string, schema: string, applicationName = 'livescope-interop'): Promise<PgSsfStore> {
    if (!SCHEMA_NAME.test(schema)) throw new InteropError('CONFIG', 'fatal', `invalid schema name ${schema}`);
    const pool = new pg.Pool({ connectionString, max: 4, application_name: applicationName, options: `-c search_path=${schema}`, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [`livescope-ssf-migrate-${schema}`]);
        try {
          await client.query(MIGRATION);
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`livescope-ssf-migrate-${schema}`]);
        }
      } finally {
        client.release();
      }
    } catch (cause) {
      await pool.end().catch(() => undefined);
      throw new InteropError('STORE', 'fatal', `cannot prepare the SSF tables in PostgreSQL schema ${schema}: ${(cause as Error).message}`, { cause });
    }
    return new PgSsfStore(pool);
  }

  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (cause) {
      throw new InteropError('STORE', 'transient', `PostgreSQL: ${(cause as Error).message}`, { cause });
    }
  }

  async createStream(s: StreamRecord): Promise<void> {
    await this.q('INSERT INTO ssf_streams (stream_id, client_id, status, record) VALUES ($1, $2, $3, $4)', [s.streamId, s.clientId, s.status, JSON.stringify(s)]);
  }
  async getStream(id: string): Promise<StreamRecord | undefined> {
    return (await this.q<{ record: StreamRecord }>('SELECT record FROM ssf_streams WHERE stream_id = $1', [id])).rows[0]?.record;
  }
  async listStreams(clientId: string): Promise<StreamRecord[]> {
    return (await this.q<{ record: StreamRecord }>('SELECT record FROM ssf_streams WHERE client_id = $1 ORDER BY stream_id', [clientId])).rows.map((r) => r.record);
  }
  async activeStreams(): Promise<StreamRecord[]> {
    return (await this.q<{ record: StreamRecord }>("SELECT record FROM ssf_streams WHERE status <> 'disabled' ORDER BY stream_id")).rows.map((r) => r.record);
  }
  async updateStream(s: StreamRecord): Promise<void> {
    await this.q('UPDATE ssf_streams SET status = $2, record = $3 WHERE stream_id = $1', [s.streamId, s.status, JSON.stringify(s)]);
  }
  async deleteStream(id: string): Promise<boolean> {
    return ((await this.q('DELETE FROM ssf_streams WHERE stream_id = $1', [id])).rowCount ?? 0) > 0;
  }
  async setSubject(streamId: string, key: string, subject: unknown, included: boolean): Promise<void> {
    await this.q('INSERT INTO ssf_subjects (stream_id, subject_key, subject, included) VALUES ($1, $2, $3, $4) ON CONFLICT (stream_id, subject_key) DO UPDATE SET included = EXCLUDED.included, subject = EXCLUDED.subject', [streamId, key, JSON.stringify(subject), included]);
  }
  async subjectDecision(streamId: string, keys: readonly string[]): Promise<boolean | undefined> {
    const rows = (await this.q<{ included: boolean }>('SELECT included FROM ssf_subjects WHERE stream_id = $1 AND subject_key = ANY($2)', [streamId, keys])).rows;
    if (rows.length === 0) return undefined;
    return rows.every((r) => r.included);
  }
  async streamSubjects(streamId: string): Promise<{ subject: unknown; included: boolean }[]> {
    return (await this.q<{ subject: unknown; included: boolean }>('SELECT subject, included FROM ssf_subjects WHERE stream_id = $1', [streamId])).rows;
  }
  async enqueue(entries: readonly OutboxEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const r = await this.q(
      `INSERT INTO ssf_outbox (stream_id, jti, set_jws, event_type, created_at, attempts, next_attempt_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::bigint[])
       ON CONFLICT (stream_id, jti) DO NOTHING`,
      [entries.map((e) => e.streamId), entries.map((e) => e.jti), entries.map((e) => e.set), entries.map((e) => e.eventType), entries.map((e) => e.createdAt), entries.map((e) => e.attempts), entries.map((e) => e.nextAttemptAt)],
    );
    return r.rowCount ?? 0;
  }
  async claimPush(now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const r = await this.q<OutboxRow & { claimed_from: string }>(
      `WITH due AS (
         SELECT o.stream_id, o.jti, o.next_attempt_at FROM ssf_outbox o JOIN ssf_streams s USING (stream_id)
         WHERE o.failed_at IS NULL AND o.next_attempt_at <= $1 AND s.status = 'enabled' AND s.record->'delivery'->>'method' = 'urn:ietf:rfc:8935'
         ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED)
       UPDATE ssf_outbox o SET next_attempt_at = $3 FROM due WHERE o.stream_id = due.stream_id AND o.jti = due.jti
       RETURNING o.*, due.next_attempt_at AS claimed_from`,
      [now, limit, now + leaseMs],
    );
    return r.rows.map((row) => ({ ...entry(row), nextAttemptAt: Number(row.claimed_from) })).sort((a, b) => a.createdAt - b.createdAt);
  }
  async delivered(streamId: string, jti: string): Promise<void> {
    await this.q('DELETE FROM ssf_outbox WHERE stream_id = $1 AND jti = $2', [streamId, jti]);
  }
  async retryLater(streamId: string, jti: string, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.q('UPDATE ssf_outbox SET attempts = $3, next_attempt_at = $4, last_error = $5 WHERE stream_id = $1 AND jti = $2', [streamId, jti, attempts, nextAttemptAt, error.slice(0, 1024)]);
  }
  async failed(streamId: string, jti: string, now: number, error: string): Promise<void> {
    await this.q('UPDATE ssf_outbox SET attempts = attempts + 1, failed_at = $3, last_error = $4 WHERE stream_id = $1 AND jti = $2', [streamId, jti, now, error.slice(0, 1024)]);
  }
  async poll(streamId: string, max: number, now: number, ackTimeoutMs: number): Promise<PollResult> {
    const r = await this.q<OutboxRow>(
      `WITH due AS (
         SELECT o.stream_id, o.jti FROM ssf_outbox o JOIN ssf_streams s USING (stream_id)
         WHERE o.stream_id = $1 AND s.status = 'enabled' AND o.failed_at IS NULL AND (o.delivered_at IS NULL OR o.delivered_at < $3)
         ORDER BY o.created_at LIMIT $2 FOR UPDATE OF o SKIP LOCKED)
       UPDATE ssf_outbox o SET delivered_at = $4, attempts = o.attempts + 1 FROM due WHERE o.stream_id = due.stream_id AND o.jti = due.jti RETURNING o.*`,
      [streamId, max + 1, now - ackTimeoutMs, now],
    );
    const rows = r.rows.map(entry).sort((a, b) => a.createdAt - b.createdAt);
    if (rows.length > max) {
      // One more than asked was claimed to learn whether more are available: release it.
      const extra = rows.pop()!;
      await this.q('UPDATE ssf_outbox SET delivered_at = NULL, attempts = attempts - 1 WHERE stream_id = $1 AND jti = $2', [streamId, extra.jti]);
      return { entries: rows, moreAvailable: true };
    }
    return { entries: rows, moreAvailable: false };
  }
  async acknowledge(streamId: string, jtis: readonly string[]): Promise<number> {
    if (jtis.length === 0) return 0;
    return (await this.q('DELETE FROM ssf_outbox WHERE stream_id = $1 AND jti = ANY($2)', [streamId, jtis])).rowCount ?? 0;
  }
  async dropOutbox(streamId: string): Promise<void> {
    await this.q('DELETE FROM ssf_outbox WHERE stream_id = $1', [streamId]);
  }
  async outboxCounts(streamId: string): Promise<{ pending: number; failed: number }> {
    const r = await this.q<{ pending: string; failed: string }>('SELECT count(*) FILTER (WHERE failed_at IS NULL) AS pending, count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed FROM ssf_outbox WHERE stream_id = $1', [streamId]);
    return { pending: Number(r.rows[0]?.pending ?? 0), failed: Number(r.rows[0]?.failed ?? 0) };
  }
  async hasReceived(iss: string, jti: string): Promise<boolean> {
    return ((await this.q('SELECT 1 FROM ssf_received WHERE iss = $1 AND jti = $2', [iss, jti])).rowCount ?? 0) > 0;
  }
  async rememberReceived(iss: string, jti: string, now: number): Promise<boolean> {
    return ((await this.q('INSERT INTO ssf_received (iss, jti, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [iss, jti, now])).rowCount ?? 0) === 1;
  }
  async forgetReceived(before: number): Promise<void> {
    await this.q('DELETE FROM ssf_received WHERE received_at < $1', [before]);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}
