import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from './Store.js';
import { StoreError } from './StoreError.js';

const url = process.env.LIVESCOPE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/livescope';
const schema = `t_store_${randomUUID().slice(0, 8)}`;
let store: Store;

beforeAll(async () => {
  store = await Store.open({ connectionString: url, schema });
});
afterAll(async () => {
  await store.query(`DROP SCHEMA ${schema} CASCADE`, [], 'cleanup');
  await store.close();
});

const row = (id: string, version: number) => ({ identityId: id, partition: 0, version, status: 'active', wakeAt: null, state: JSON.stringify({ id, version }) });
const audit = (id: string, version: number) => ({ at: new Date().toISOString(), kind: 'scope.change', identityId: id, version, actor: null, eventId: `e-${id}-${version}`, payload: JSON.stringify({ id, version }) });

describe('Store over a real PostgreSQL', () => {
  it('migrates idempotently and refuses nothing it knows', async () => {
    expect(await store.migrate()).toEqual([]);
  });

  it('commits a batch atomically and fences a stale writer', async () => {
    const p = await store.loadPartition('events', 0);
    expect(p.nextOffset).toBe(-1n);
    const tail = await store.commitBatch({ topic: 'events', partition: 0, expectedOffset: -1n, nextOffset: 10n, owner: 'w1', identities: [row('a', 1), row('b', 1)], audit: [audit('a', 1), audit('b', 1)] }, p.auditTail);
    expect(tail.seq).toBe(2);
    // A second worker that still believes the offset is -1 is fenced, and writes nothing.
    await expect(store.commitBatch({ topic: 'events', partition: 0, expectedOffset: -1n, nextOffset: 12n, owner: 'w2', identities: [row('a', 9)], audit: [audit('a', 9)] }, p.auditTail)).rejects.toSatisfy(
      (e: unknown) => StoreError.is(e) && e.code === 'FENCED',
    );
    const a = await store.identityState('a');
    expect(JSON.parse(a!.state)).toEqual({ id: 'a', version: 1 });
    const again = await store.loadPartition('events', 0);
    expect(again.nextOffset).toBe(10n);
    expect(again.auditTail.seq).toBe(2);
    const chunks = [];
    for await (const c of store.identitiesOf(0, 1)) chunks.push(...c.map((x) => x.identityId));
    expect(chunks).toEqual(['a', 'b']);
  });

  it('reads the states of named identities and of identities waking in a range, within one partition', async () => {
    const p = await store.loadPartition('events', 5);
    const w = (id: string, partition: number, wakeAt: number | null) => ({ ...row(id, 1), partition, wakeAt });
    const T = 1_800_000_000_000;
    await store.commitBatch({ topic: 'events', partition: 5, expectedOffset: p.nextOffset, nextOffset: 1n, owner: 'w1', identities: [w('w-1', 5, T), w('w-2', 5, T + 1000), w('w-3', 5, T + 2001), w('w-none', 5, null)], audit: [] }, p.auditTail);
    // An identity of another partition, due at the same instant (a commit writes its own partition only).
    await store.query("INSERT INTO identity_state (identity_id, partition, version, status, wake_at, state) VALUES ('w-other', 6, 1, 'active', to_timestamp($1::float8 / 1000.0), '{}')", [T], 'other partition');
    const ids = (rows: { identityId: string }[]) => rows.map((r) => r.identityId).sort();
    expect(ids(await store.identitiesByIds(5, ['w-1', 'w-none', 'w-other', 'w-missing']))).toEqual(['w-1', 'w-none']);
    expect(await store.identitiesByIds(5, [])).toEqual([]);
    expect(ids(await store.identitiesWaking(5, undefined, T + 1000))).toEqual(['w-1', 'w-2']);
    // (after, until]: the stretches a loader asks for one after the other neither overlap nor leave gaps, to the millisecond.
    expect(ids(await store.identitiesWaking(5, T, T + 2000))).toEqual(['w-2']);
    expect(ids(await store.identitiesWaking(5, T + 2000, T + 2001))).toEqual(['w-3']);
  });

  it('stores state and payload texts byte for byte, \\u0000 escapes, quotes and non-ASCII included', async () => {
    const state = '{"u":{"db:read\\u0000db/x":1},"q":"say \\"hi\\" é ✓","w":null}';
    const payload = '{"summary":"a\\\\b \\u0000 \\"q\\""}';
    const p = await store.loadPartition('events', 1);
    await store.commitBatch({ topic: 'events', partition: 1, expectedOffset: p.nextOffset, nextOffset: 1n, owner: 'w1', identities: [{ ...row('texts', 1), partition: 1, wakeAt: 1_800_000_000_123, state }], audit: [{ ...audit('texts', 1), payload }] }, p.auditTail);
    expect((await store.identityState('texts'))!.state).toBe(state);
    expect((await store.auditOf('texts'))[0]!.payload).toBe(payload);
  });

  it('verify reports the first tampered or missing audit row', async () => {
    const p = await store.loadPartition('events', 0);
    await store.commitBatch({ topic: 'events', partition: 0, expectedOffset: p.nextOffset, nextOffset: p.nextOffset + 5n, owner: 'w1', identities: [row('c', 1)], audit: [audit('c', 1), audit('c', 2)] }, p.auditTail);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, rows: 5 });
    // The table refuses updates; a tamperer with superuser rights disables the trigger first.
    await expect(store.query("UPDATE audit_log SET payload = '{}' WHERE seq = 3", [], 'tamper')).rejects.toThrow(/append-only/);
    await store.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update', [], 'tamper');
    await store.query(`UPDATE audit_log SET payload = '{"id":"c","version":1,"widened":true}' WHERE seq = 3`, [], 'tamper');
    expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: { partition: 0, seq: 3, problem: 'tampered' } });
    await store.query('DELETE FROM audit_log WHERE seq = 3', [], 'tamper');
    expect(await store.verifyAudit()).toMatchObject({ ok: false, firstBad: { partition: 0, seq: 3, problem: 'missing' } });
  });
});
