import { randomUUID } from 'node:crypto';
import { encodeWire, topicNames, topicSpecs, Topics, type AuditHead } from '@livescope/contracts';
import { CommandSigner, CommandVerifier, createKafka, createLogger, createProducer, ensureTopics, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditHeads } from './readAuditHeads.js';
import { Store, type BatchCommit } from './Store.js';

const url = process.env.LIVESCOPE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/livescope';
const brokers = (process.env.LIVESCOPE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomUUID().slice(0, 8);
const schema = `t_heads_${id}`;
const topics = topicNames(`t${id}.`);
const kafka = createKafka({ brokers, clientId: `test-heads-${id}`, logger: createLogger('test', process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'error') });
const worker = generateSigningKeyPair(`worker-${id}`);
const signer = new CommandSigner(parsePrivateKey(worker.kid, worker.privateKey));
const verifier = new CommandVerifier([parsePublicKey(worker.kid, worker.publicKey)]);
let store: Store;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  store = await Store.open({ connectionString: url, schema });
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { prefix: `t${id}.`, partitions: 2, specs: topicSpecs.filter((s) => s.name === Topics.auditHeads) });
  producer = createProducer(kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [topics.auditHeads] }).catch(() => undefined);
  await admin?.disconnect();
  await store?.query(`DROP SCHEMA ${schema} CASCADE`, [], 'cleanup');
  await store?.close();
});

type AuditRow = BatchCommit['audit'][number];
const row = (n: number): AuditRow => ({ at: new Date(Date.UTC(2026, 11, 6) + n).toISOString(), kind: 'scope.change', identityId: `id-${n}`, version: n, actor: null, eventId: `e${n}`, payload: JSON.stringify({ n }) });
async function commit(partition: number, from: number, count: number): Promise<void> {
  const p = await store.loadPartition(topics.events, partition);
  await store.commitBatch({ topic: topics.events, partition, expectedOffset: p.nextOffset, nextOffset: p.nextOffset + BigInt(count) + 1n, owner: 'w1', identities: [], audit: Array.from({ length: count }, (_, i) => row(from + i)) }, p.auditTail);
}

/** A head message as a worker publishes it (wire format, signed), or signed by `by`. */
function headMessage(h: Omit<AuditHead, 'kind' | 'topic' | 'at' | 'workerId'>, by: CommandSigner = signer) {
  const head: AuditHead = { kind: 'audit.head', topic: topics.events, at: new Date().toISOString(), workerId: 'w1', ...h };
  const value = encodeWire(1, Buffer.from(JSON.stringify(head)));
  return { key: `p${h.partition}`, value, headers: by.headers(topics.auditHeads, `p${h.partition}`, value) };
}

async function publishHeadsFromTable(): Promise<void> {
  const heads = await store.auditChainHeads(topics.events, [0, 1]);
  await producer.send({ topic: topics.auditHeads, acks: -1, messages: heads.map((h) => headMessage({ partition: h.partition, seq: String(h.seq), hash: h.hash.toString('hex'), nextOffset: h.nextOffset.toString() })) });
}

describe('signed audit heads over real Kafka and PostgreSQL', () => {
  it('reads nothing from an empty heads topic, quickly', async () => {
    const read = await readAuditHeads({ kafka, topic: topics.auditHeads, eventsTopic: topics.events, verifier, timeoutMs: 20_000 });
    expect(read).toMatchObject({ messages: 0, rejectedCount: 0 });
    expect(read.heads.size).toBe(0);
  });

  it('detects a removed tail against a published head, and a forged head is rejected and never used', async () => {
    await commit(0, 1, 6);
    await commit(1, 1, 3);
    await publishHeadsFromTable();
    // Forged: claims partition 1 reached seq 50, under the worker's key id but signed by another key.
    const mallory = generateSigningKeyPair(worker.kid);
    const forged = headMessage({ partition: 1, seq: '50', hash: 'ab'.repeat(32), nextOffset: '99' }, new CommandSigner(parsePrivateKey(mallory.kid, mallory.privateKey)));
    const unsigned = { ...headMessage({ partition: 0, seq: '60', hash: 'cd'.repeat(32), nextOffset: '99' }), headers: {} };
    await producer.send({ topic: topics.auditHeads, acks: -1, messages: [forged, unsigned] });

    const read = await readAuditHeads({ kafka, topic: topics.auditHeads, eventsTopic: topics.events, verifier, timeoutMs: 30_000 });
    expect(read.messages).toBe(4);
    expect(read.rejectedCount).toBe(2);
    expect(read.rejected.map((r) => `${r.key} ${r.reason}`).sort()).toEqual(['p0 signature', 'p1 signature']);
    expect(read.latest.get(0)).toMatchObject({ seq: 6, kid: worker.kid });
    expect(read.latest.get(1)).toMatchObject({ seq: 3 });
    expect(await store.verifyAudit({ heads: read.heads })).toMatchObject({ ok: true, rows: 9, headsChecked: 2, partitionsWithoutHead: [] });

    // Someone with the table owner's rights removes the last two rows of partition 0, and puts the trigger back.
    await store.query(
      `BEGIN;
       DROP TRIGGER audit_log_no_update ON audit_log;
       DELETE FROM audit_log WHERE partition = 0 AND seq > 4;
       CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
       COMMIT`,
      [],
      'remove the tail',
    );
    // The hash links alone cannot see it.
    expect(await store.verifyAudit()).toMatchObject({ ok: true, rows: 7 });
    const again = await readAuditHeads({ kafka, topic: topics.auditHeads, eventsTopic: topics.events, verifier, timeoutMs: 30_000 });
    const removed = await store.verifyAudit({ heads: again.heads });
    expect(removed).toMatchObject({ ok: false, firstBad: { partition: 0, seq: 5, problem: 'tail-missing' } });
    expect(removed.problems).toEqual([expect.objectContaining({ partition: 0, problem: 'tail-missing', head: expect.objectContaining({ seq: 6 }) as object })]);
    expect(removed.problems[0]!.detail).toMatch(/rows 5-6 were removed/);

    // A worker restarted on the shortened table chains new rows from row 4: the head no longer matches row 6.
    await commit(0, 100, 3);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, rows: 10 });
    expect(await store.verifyAudit({ heads: again.heads })).toMatchObject({ ok: false, problems: [{ partition: 0, seq: 6, problem: 'head-mismatch' }] });
  });
});
