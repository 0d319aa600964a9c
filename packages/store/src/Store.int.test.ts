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
