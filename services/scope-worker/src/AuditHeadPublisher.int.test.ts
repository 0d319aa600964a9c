import { decodeWire, subjectSpecsFor, valueSubject } from '@livescope/contracts';
import { readAuditHeads, type BatchCommit, type Store } from '@livescope/store';
import { PipelineFixture, waitFor } from '@livescope/testkit';
import { CommandSigner, CommandVerifier, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditHeadPublisher } from './AuditHeadPublisher.js';

let fx: PipelineFixture;
let store: Store;
let schemaId: number;
let publisher: AuditHeadPublisher;
let verifier: CommandVerifier;

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  store = await fx.store();
  // What the worker does at start: register every subject, keep the ids.
  schemaId = (await fx.registry.registerAll(subjectSpecsFor(fx.prefix))).get(valueSubject(fx.topics.auditHeads))!.id;
  publisher = new AuditHeadPublisher({ store, producer: fx.producer, signer: new CommandSigner(parsePrivateKey(fx.keys.kid, fx.keys.privateKey)), topics: fx.topics, schemaId, workerId: 'w-int', logger: fx.logger });
  verifier = new CommandVerifier([parsePublicKey(fx.keys.kid, fx.keys.publicKey)]);
});
afterAll(async () => {
  await fx?.close();
});

type AuditRow = BatchCommit['audit'][number];
// A broadcast's time as producers write it: no milliseconds, an offset.
const row = (n: number): AuditRow => ({ at: `2026-12-06T12:00:${String(n % 60).padStart(2, '0')}+02:00`, kind: 'order.issued', identityId: null, version: null, actor: 'alice', eventId: `e${n}`, payload: JSON.stringify({ n }) });
async function commit(partition: number, from: number, count: number): Promise<void> {
  const p = await store.loadPartition(fx.topics.events, partition);
  await store.commitBatch({ topic: fx.topics.events, partition, expectedOffset: p.nextOffset, nextOffset: p.nextOffset + BigInt(count) + 1n, owner: 'w-int', identities: [], audit: Array.from({ length: count }, (_, i) => row(from + i)) }, p.auditTail);
}
const read = () => readAuditHeads({ kafka: fx.kafka, topic: fx.topics.auditHeads, eventsTopic: fx.topics.events, verifier, timeoutMs: 30_000 });

describe('AuditHeadPublisher over real Kafka, registry and PostgreSQL', () => {
  it('publishes signed heads that the reader verifies and verify checks against the table', async () => {
    await commit(0, 1, 5);
    await commit(1, 1, 2);
    const published = await publisher.publish([0, 1, 2]);
    expect(published.map((h) => `${h.partition}:${h.seq}`)).toEqual(['0:5', '1:2']);
    expect(await publisher.publish([0, 1, 2])).toEqual([]);

    const heads = await read();
    expect(heads.rejectedCount).toBe(0);
    expect(heads.messages).toBe(2);
    expect(heads.latest.get(0)).toMatchObject({ seq: 5, workerId: 'w-int', kid: fx.keys.kid, nextOffset: '5' });
    expect(await store.verifyAudit({ heads: heads.heads })).toMatchObject({ ok: true, rows: 7, headsChecked: 2, partitionsWithoutHead: [] });
  });

  it('writes the registry id of the heads subject into the wire header', async () => {
    const tail = await fx.tail(['auditHeads']);
    await commit(2, 1, 1);
    await publisher.publish([2]);
    const m = await waitFor('the head of partition 2', () => tail.of(fx.topics.auditHeads).find((x) => x.key === 'p2'));
    expect(decodeWire(m.raw).schemaId).toBe(schemaId);
  });

  it('makes a tail removed after its publication visible to verify', async () => {
    await commit(0, 6, 3);
    expect((await publisher.publish([0, 1, 2])).map((h) => `${h.partition}:${h.seq}`)).toEqual(['0:8']);
    await store.query(
      `BEGIN;
       DROP TRIGGER audit_log_no_update ON audit_log;
       DELETE FROM audit_log WHERE partition = 0 AND seq > 6;
       CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
       COMMIT`,
      [],
      'remove the tail',
    );
    expect((await store.verifyAudit()).ok).toBe(true);
    const result = await store.verifyAudit({ heads: (await read()).heads });
    expect(result).toMatchObject({ ok: false, problems: [{ partition: 0, seq: 7, problem: 'tail-missing', head: { seq: 8, workerId: 'w-int' } }] });
    // Its head moved backwards: the publisher publishes the shortened chain too (what it reads), and
    // verify still reports the removal from the earlier head.
    expect((await publisher.publish([0])).map((h) => h.seq)).toEqual(['6']);
    expect(await store.verifyAudit({ heads: (await read()).heads })).toMatchObject({ ok: false, firstBad: { partition: 0, seq: 7, problem: 'tail-missing' } });
  });
});
