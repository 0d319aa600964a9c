import { encodeWire, encodeWireJson, identityEvent, type DeadLetter, type DriftAlert, type LivescopeEventInput, type ScopeChange } from '@livescope/contracts';
import { StoreError } from '@livescope/store';
import { generateSigningKeyPair, ProducerKeyring, ProducerSigner } from '@livescope/transport';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PartitionRunner, rowWakeAt } from './PartitionRunner.js';
import { FAKE_SCHEMA_ID as SCHEMA, fakeContext, FakeProducer, FakeStore, fakeTopics } from './testing/partitionFakes.js';
import { WorkerMetrics } from './WorkerMetrics.js';

/**
 * PartitionRunner in isolation (issue 13): decode → apply → flush (produce, then commit) → fence.
 * Kafka's producer and PostgreSQL are the process boundaries faked here; the engine, the codecs,
 * the signing and the classification are the real ones.
 */
const topics = fakeTopics;
const producerKey = generateSigningKeyPair('provisioning');
const producerSigner = ProducerSigner.fromConfig(producerKey.kid, producerKey.privateKey);
const keyring = ProducerKeyring.fromJson(JSON.stringify({ provisioning: { publicKey: producerKey.publicKey, eventTypes: ['*'] } }));
const T = Date.now();


async function setup(): Promise<{ runner: PartitionRunner; store: FakeStore; producer: FakeProducer; metrics: WorkerMetrics; message: (value: Buffer, key?: string | null, signed?: boolean) => KafkaMessage }> {
  const store = new FakeStore();
  const producer = new FakeProducer();
  const metrics = new WorkerMetrics();
  const ctx = fakeContext({ store, producer, keyring, metrics });
  const runner = await PartitionRunner.load(ctx, 0, 0n);
  let offset = 0;
  const message = (value: Buffer, key: string | null = 'sa-1', signed = true): KafkaMessage => ({
    // kafkajs types `headers` of a fetched message narrowly; the runner reads them as IHeaders.
    key: key === null ? null : Buffer.from(key),
    value,
    offset: String(offset++),
    timestamp: String(T),
    attributes: 0,
    size: value.length,
    headers: (signed ? producerSigner.headers(topics.events, key, value) : {}) as unknown as KafkaMessage['headers'],
  }) as KafkaMessage;
  return { runner, store, producer, metrics, message };
}

const wire = (e: LivescopeEventInput): Buffer => encodeWireJson(SCHEMA, e);
const created = identityEvent('identity.created', 'sa-1', { kind: 'service-account', name: 'sa-1', namespace: 'ci', owner: 'team' }, { id: 'e1', time: T });
const granted = identityEvent('entitlement.granted', 'sa-1', { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/a', access: 'read' }] }, { id: 'e2', time: T });
const kafkaError = (name: string, fields: Record<string, unknown>): Error => Object.assign(new Error(name), { name, ...fields });

describe('PartitionRunner: decode → apply → flush → fence', () => {
  it('applies good events, dead-letters the bad ones, produces before it commits, and moves on', async () => {
    const { runner, store, producer, message } = await setup();
    const batch = [
      message(wire(created)),
      message(Buffer.from('not in the wire format')),
      message(encodeWire(SCHEMA, Buffer.from('{nope'))),
      message(wire({ ...created, type: 'constructor' } as unknown as LivescopeEventInput)),
      message(wire(granted), 'someone-else'),
      message(wire(granted)),
    ];
    await runner.process(batch, T);
    const dead = producer.sent<DeadLetter>(topics.deadLetters);
    expect(dead.map((d) => d.reason)).toEqual(['not-wire-format', 'not-json', 'schema-invalid', 'key-mismatch']);
    expect(dead.every((d) => d.valueSha256?.length === 64 && d.valueBytes !== undefined)).toBe(true);
    const changes = producer.sent<ScopeChange>(topics.scopeChanges);
    expect(changes.at(-1)).toMatchObject({ identityId: 'sa-1', permissions: [{ action: 'db:read', resource: 'db/a' }] });
    // One commit, after every output was produced: state, offset past the batch.
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]).toMatchObject({ expectedOffset: -1n, nextOffset: 6n, owner: 'w1' });
    expect(store.commits[0]!.identities.map((r) => r.identityId)).toEqual(['sa-1']);
    expect(runner.position).toBe(6n);
    // A message below the position is not applied twice.
    await runner.process([batch[5]!], T);
    expect(store.commits).toHaveLength(1);
  });

  it('counts consumed events by type and outcome once per batch, and skips the head of a batch below the position', async () => {
    const { runner, metrics, message } = await setup();
    const risk = (id: string, score: number) => wire(identityEvent('telemetry.risk-scored', 'sa-1', { score }, { id, time: T }));
    const batch = [message(wire(created)), message(risk('r1', 0), 'sa-1', false), message(risk('r2', 0), 'sa-1', false), message(risk('r3', 0), 'sa-1', false), message(wire(created))];
    await runner.process(batch.slice(0, 3), T);
    // The first three again (a refetch) with two new ones: only the new ones are applied.
    await runner.process(batch, T);
    const counted = (await metrics.eventsConsumed.get()).values.map((v) => `${v.labels.type}/${v.labels.outcome}=${v.value}`).sort();
    expect(counted).toEqual(['identity.created/applied=1', 'identity.created/duplicate=1', 'telemetry.risk-scored/unchanged=3']);
  });

  it('refuses an unsigned control event with a dead letter and an alert, and applies the signed one', async () => {
    const { runner, producer, message } = await setup();
    await runner.process([message(wire(created)), message(wire(granted), 'sa-1', false)], T);
    expect(producer.sent<DeadLetter>(topics.deadLetters).map((d) => d.reason)).toEqual(['unauthorized-producer']);
    expect(producer.sent<DriftAlert>(topics.driftAlerts).map((a) => a.type)).toEqual(['unauthorized-producer']);
    expect(producer.sent<ScopeChange>(topics.scopeChanges)).toEqual([]);
  });

  it('keeps a dead letter within the broker limit: the original is cut at 64 KiB, with its length and hash', async () => {
    const { runner, producer, message } = await setup();
    const big = wire({ ...granted, data: { ...granted.data, role: 'x'.repeat(300_000) } });
    await runner.process([message(big)], T);
    const [d] = producer.sent<DeadLetter>(topics.deadLetters);
    expect(d).toMatchObject({ reason: 'schema-invalid', valueTruncated: true, valueBytes: big.length });
    expect(Buffer.from(d!.value, 'base64')).toHaveLength(64 * 1024);
  });

  it('retries a transient broker or database failure in place, keeping order', async () => {
    const { runner, store, producer, metrics, message } = await setup();
    producer.failures.push(kafkaError('KafkaJSConnectionError', { retriable: true }));
    store.failures.push(new StoreError('PG_UNAVAILABLE', 'connection terminated'));
    await runner.process([message(wire(created)), message(wire(granted))], T);
    expect(store.commits).toHaveLength(1);
    expect(runner.position).toBe(2n);
    const retried = (await metrics.transientErrors.get()).values.map((v) => `${v.labels.component}:${v.value}`).sort();
    expect(retried).toEqual(['kafka:1', 'postgres:1']);
  });

  it('a fenced commit is reassigned, unless the lost reply had committed our own offset', async () => {
    const fenced = await setup();
    fenced.store.nextOffset = 5n; // another worker moved the partition on
    await expect(fenced.runner.process([fenced.message(wire(created))], T)).rejects.toMatchObject({ code: 'FENCED', classification: 'reassigned' });
    const lost = await setup();
    // The first attempt's reply was lost but the commit landed: the retry is fenced, the row holds our offset.
    lost.store.failures.push(Object.assign(new StoreError('PG_UNAVAILABLE', 'reply lost'), {}));
    const commit = lost.store.commitBatch.bind(lost.store);
    let first = true;
    lost.store.commitBatch = async (b, tail) => {
      if (first) {
        first = false;
        lost.store.failures.shift();
        await commit(b, tail);
        throw new StoreError('PG_UNAVAILABLE', 'reply lost');
      }
      return commit(b, tail);
    };
    await lost.runner.process([lost.message(wire(created))], T);
    expect(lost.runner.position).toBe(1n);
    expect(lost.store.commits).toHaveLength(1);
  });

  it('an output the broker refuses for its size is poison of the batch, not retried', async () => {
    const { runner, store, producer, message } = await setup();
    producer.failures.push(kafkaError('KafkaJSNonRetriableError', { retriable: false, cause: kafkaError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' }) }));
    await expect(runner.process([message(wire(created)), message(wire(granted))], T)).rejects.toMatchObject({ name: 'KafkaJSNonRetriableError' });
    expect(store.commits).toHaveLength(0);
  });

  it('produces the outputs of a large batch while the rest of it is applied: one request in flight, versions in order, the commit after the last acknowledgement', async () => {
    const { runner, store, producer, message } = await setup();
    const N = 600;
    const batch = Array.from({ length: N }, (_, i) => {
      const id = `sa-${i}`;
      return [
        message(wire(identityEvent('identity.created', id, { kind: 'service-account', name: id, namespace: 'ci', owner: 'team' }, { id: `c${i}`, time: T })), id),
        message(wire(identityEvent('entitlement.granted', id, { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/a', access: 'read' }] }, { id: `g${i}`, time: T })), id),
        message(wire(identityEvent('entitlement.granted', id, { grantId: 'g2', role: 'writer', permissions: [{ action: 'db:write', resource: 'db/a', access: 'write' }] }, { id: `w${i}`, time: T })), id),
      ];
    }).flat();
    // Each request is acknowledged a macrotask later; record what the engine held when it was sent.
    let inflight = 0;
    let maxInflight = 0;
    const heldAtSend: number[] = [];
    const send = producer.sendBatch.bind(producer);
    producer.sendBatch = async (r) => {
      heldAtSend.push(runner.engine.size);
      maxInflight = Math.max(maxInflight, ++inflight);
      await new Promise((resolve) => setImmediate(resolve));
      inflight--;
      return send(r);
    };
    let sentAtCommit = -1;
    const commit = store.commitBatch.bind(store);
    store.commitBatch = (b, tail) => {
      sentAtCommit = inflight === 0 ? producer.requests.length : -1;
      return commit(b, tail);
    };
    await runner.process(batch, T);
    // The first outputs went out when a fraction of the batch's identities had been applied.
    expect(heldAtSend[0]).toBeLessThan(N / 2);
    expect(maxInflight).toBe(1);
    const changes = producer.sent<ScopeChange>(topics.scopeChanges);
    expect(changes).toHaveLength(2 * N);
    for (let i = 0; i < N; i++) expect(changes.filter((c) => c.identityId === `sa-${i}`).map((c) => c.version)).toEqual([1, 2]);
    expect(store.commits).toHaveLength(1);
    expect(sentAtCommit).toBe(producer.requests.length);
    expect(store.commits[0]!.audit.filter((a) => a.kind === 'scope.change')).toHaveLength(2 * N);
    expect(runner.position).toBe(BigInt(3 * N));
  });

  it('a request refused while the batch goes on fails the batch before its commit', async () => {
    const { runner, store, producer, message } = await setup();
    producer.failures.push(kafkaError('KafkaJSNonRetriableError', { retriable: false, cause: kafkaError('KafkaJSProtocolError', { retriable: false, type: 'MESSAGE_TOO_LARGE' }) }));
    const batch = Array.from({ length: 400 }, (_, i) => message(wire(identityEvent('identity.created', `sa-${i}`, { kind: 'service-account', name: `sa-${i}`, namespace: 'ci', owner: 'team' }, { id: `c${i}`, time: T })), `sa-${i}`));
    batch.push(...batch.map((m, i) => message(wire(identityEvent('entitlement.granted', `sa-${i}`, { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/a', access: 'read' }] }, { id: `g${i}`, time: T })), `sa-${i}`)));
    await expect(runner.process(batch, T)).rejects.toMatchObject({ name: 'KafkaJSNonRetriableError' });
    expect(store.commits).toHaveLength(0);
  });

  it('skip() dead-letters one message without applying it and moves past it', async () => {
    const { runner, store, producer, message } = await setup();
    const m = message(wire(created));
    await runner.skip(m, 'unprocessable', 'its effects could not be stored');
    expect(producer.sent<DeadLetter>(topics.deadLetters)).toEqual([expect.objectContaining({ reason: 'unprocessable', message: 'its effects could not be stored' })]);
    expect(store.commits[0]).toMatchObject({ nextOffset: 1n, identities: [] });
    expect(runner.engine.size).toBe(0);
  });
});

describe('rowWakeAt (the wake_at a partition loading in the background reads its due identities by)', () => {
  it('is the earlier of the next timer and a pending snapshot', () => {
    expect(rowWakeAt({ wakeAt: null, snapshotAt: null })).toBeNull();
    expect(rowWakeAt({ wakeAt: 5_000, snapshotAt: null })).toBe(5_000);
    expect(rowWakeAt({ wakeAt: null, snapshotAt: 7_000 })).toBe(7_000);
    expect(rowWakeAt({ wakeAt: 9_000, snapshotAt: 7_000 })).toBe(7_000);
    expect(rowWakeAt({ wakeAt: 3_000, snapshotAt: 7_000 })).toBe(3_000);
  });
});
