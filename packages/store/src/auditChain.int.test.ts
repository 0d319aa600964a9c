import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHashV1, GENESIS_HASH, type AuditRecord } from './auditChain.js';
import { migrations } from './migrations.js';
import { Store, type BatchCommit } from './Store.js';

const url = process.env.LIVESCOPE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/livescope';
const schema = `t_audit_${randomUUID().slice(0, 8)}`;
const legacySchema = `${schema}_v1`;
let store: Store;
const opened: Store[] = [];

beforeAll(async () => {
  store = await Store.open({ connectionString: url, schema });
  opened.push(store);
});
afterAll(async () => {
  await store.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`, [], 'cleanup');
  await store.query(`DROP SCHEMA IF EXISTS ${legacySchema} CASCADE`, [], 'cleanup');
  for (const s of opened) await s.close();
});

type AuditRow = BatchCommit['audit'][number];
const broadcast = (id: string, time: string, actor = 'alice'): AuditRow => ({ at: time, kind: 'order.issued', identityId: null, version: null, actor, eventId: id, payload: JSON.stringify({ id, type: 'order.issued', time, data: { actor } }) });

async function commit(s: Store, partition: number, audit: readonly AuditRow[]): Promise<void> {
  const p = await s.loadPartition('events', partition);
  await s.commitBatch({ topic: 'events', partition, expectedOffset: p.nextOffset, nextOffset: p.nextOffset + 2n, owner: 'w1', identities: [], audit }, p.auditTail);
}

describe('audit chain over a real PostgreSQL', () => {
  it('a chain of more than nine rows verifies clean (regression: ordered by the seq text, 1, 10, 11, …, 2)', async () => {
    const s = await Store.open({ connectionString: url, schema: `${schema}_long` });
    opened.push(s);
    try {
      for (let i = 0; i < 3; i++) await commit(s, 4, Array.from({ length: 5 }, (_, k) => broadcast(`long-${i}-${k}`, '2026-12-06T10:00:00Z')));
      expect(await s.verifyAudit({ pageRows: 4 })).toMatchObject({ ok: true, rows: 15, problems: [] });
    } finally {
      await s.query(`DROP SCHEMA IF EXISTS ${schema}_long CASCADE`, [], 'cleanup');
    }
  });

  it('broadcast rows with non-canonical times verify clean (regression: hashed as raw text, verified as toISOString of the timestamptz)', async () => {
    const times = ['2026-12-06T10:00:00Z', '2026-12-06T12:00:00+02:00', '2026-12-06T10:00:00.123456Z', '2026-12-06T10:00:00.9999996Z', '2026-12-06T10:00:00.5-00:00', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999-14:00'];
    await commit(store, 0, times.map((t, i) => broadcast(`b${i}`, t)));
    expect(await store.verifyAudit()).toMatchObject({ ok: true, rows: times.length, problems: [] });
    // The column holds exactly the canonical instant (milliseconds, offset applied, truncated).
    const { rows } = await store.query<{ at: Date; exact: boolean }>(
      `SELECT at, at = ANY($1::timestamptz[]) AS exact FROM audit_log WHERE partition = 0 ORDER BY seq`,
      [['2026-12-06T10:00:00.000Z', '2026-12-06T10:00:00.123Z', '2026-12-06T10:00:00.999Z', '2026-12-06T10:00:00.500Z', '10000-01-01T13:59:59.999Z']],
      'read back',
    );
    expect(rows.slice(0, 5).map((r) => r.at.toISOString())).toEqual(['2026-12-06T10:00:00.000Z', '2026-12-06T10:00:00.000Z', '2026-12-06T10:00:00.123Z', '2026-12-06T10:00:00.999Z', '2026-12-06T10:00:00.500Z']);
    expect(rows.filter((r, i) => i !== 5 && !r.exact)).toEqual([]);
    expect(rows[5]!.at.getTime()).toBe(-62_167_219_200_000);
  });

  it('text columns PostgreSQL cannot hold (NUL, lone surrogates) commit in canonical form and verify', async () => {
    await commit(store, 1, [broadcast('t1', '2026-12-06T10:00:00Z', 'mal\u0000lory\ud800'), { ...broadcast('t2', '2026-12-06T10:00:01Z'), payload: 'raw \u0000 text' }]);
    const { rows } = await store.query<{ actor: string; payload: string }>('SELECT actor, payload FROM audit_log WHERE partition = 1 ORDER BY seq', [], 'read back');
    expect(rows.map((r) => r.actor)).toEqual(['mal\uFFFDlory\uFFFD', 'alice']);
    expect(rows[1]!.payload).toBe('raw \uFFFD text');
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('TRUNCATE, DELETE and UPDATE of audit_log raise, and leave every row', async () => {
    const count = async (): Promise<number> => Number((await store.query<{ n: string }>('SELECT count(*)::text AS n FROM audit_log', [], 'count')).rows[0]!.n);
    const before = await count();
    expect(before).toBeGreaterThan(0);
    await expect(store.query('TRUNCATE audit_log', [], 'tamper')).rejects.toThrow(/append-only: TRUNCATE refused/);
    await expect(store.query('DELETE FROM audit_log WHERE partition = 0', [], 'tamper')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(store.query('DELETE FROM audit_log', [], 'tamper')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(store.query(`UPDATE audit_log SET actor = 'mallory'`, [], 'tamper')).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(store.query('TRUNCATE audit_log CASCADE', [], 'tamper')).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('a chain written by the previous release (format 1) verifies after the upgrade, and chains on in format 2', async () => {
    // The database as the previous release left it: migrations 1-2, rows written by its commit SQL.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${legacySchema}`);
      await client.query(`SET search_path = ${legacySchema}`);
      await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const m of migrations.filter((x) => x.version <= 2)) {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      }
      let prev: Buffer = GENESIS_HASH;
      const old = [
        { at: '2026-12-06T10:00:00.000Z', kind: 'scope.change', identityId: 'a', version: 1, actor: null, eventId: 'e1', payload: '{"identityId":"a","version":1}' },
        broadcast('b1', '2026-12-06T10:00:00Z'),
        broadcast('b2', '2026-12-06T12:00:01+02:00'),
        broadcast('b3', '2026-12-06T10:00:02.123456Z'),
      ].map((r, i) => {
        const rec: AuditRecord = { ...r, partition: 0, seq: i + 1 };
        const hash = auditHashV1(prev, rec);
        const row = [rec.seq, rec.at, rec.kind, rec.identityId, rec.version, rec.actor, rec.eventId, rec.payload, prev.toString('hex'), hash.toString('hex')];
        prev = hash;
        return row;
      });
      await client.query(`INSERT INTO partition_state (topic, partition, next_offset) VALUES ('events', 0, 4)`);
      await client.query(
        `INSERT INTO audit_log (partition, seq, at, kind, identity_id, version, actor, event_id, payload, prev_hash, hash)
         SELECT 0, (a->>0)::bigint, (a->>1)::timestamptz, a->>2, a->>3, (a->>4)::bigint, a->>5, a->>6, a->>7, decode(a->>8, 'hex'), decode(a->>9, 'hex')
           FROM json_array_elements($1::json) AS a`,
        [JSON.stringify(old)],
      );
    } finally {
      await client.end();
    }
    const upgraded = await Store.open({ connectionString: url, schema: legacySchema });
    opened.push(upgraded);
    const { rows } = await upgraded.query<{ chain_version: number }>('SELECT chain_version FROM audit_log ORDER BY seq', [], 'versions');
    expect(rows.map((r) => r.chain_version)).toEqual([1, 1, 1, 1]);
    expect(await upgraded.verifyAudit()).toMatchObject({ ok: true, rows: 4 });
    await commit(upgraded, 0, [broadcast('b4', '2026-12-06T10:00:03Z'), broadcast('b5', '2026-12-06T12:00:04+02:00')]);
    expect(await upgraded.verifyAudit()).toMatchObject({ ok: true, rows: 6 });
    const after = await upgraded.query<{ chain_version: number }>('SELECT chain_version FROM audit_log ORDER BY seq', [], 'versions');
    expect(after.rows.map((r) => r.chain_version)).toEqual([1, 1, 1, 1, 2, 2]);
  });
});
