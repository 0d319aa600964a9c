import { AuditHead, decodeWire, topicNames } from '@livescope/contracts';
import { AuditHeadCollector, type AuditChainHead } from '@livescope/store';
import { CommandSigner, CommandVerifier, createLogger, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { waitFor } from '@livescope/testkit';
import type { Message, ProducerRecord, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AuditHeadPublisher } from './AuditHeadPublisher.js';

const keys = generateSigningKeyPair('worker-key');
const signer = new CommandSigner(parsePrivateKey(keys.kid, keys.privateKey));
const verifier = new CommandVerifier([parsePublicKey(keys.kid, keys.publicKey)]);
const topics = topicNames('t.');
const logger = createLogger('test', 'silent');
const hash = (c: string): Buffer => Buffer.from(c.repeat(64), 'hex');

/** The chain heads PostgreSQL would return, changed by the test. */
class Heads {
  readonly byPartition = new Map<number, AuditChainHead>();
  failNext = false;
  set(partition: number, seq: number, h: Buffer, nextOffset = BigInt(seq * 10)): void {
    this.byPartition.set(partition, { partition, seq, hash: h, nextOffset });
  }
  auditChainHeads(topic: string, partitions: readonly number[]): Promise<AuditChainHead[]> {
    expect(topic).toBe(topics.events);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('PostgreSQL unavailable'));
    }
    return Promise.resolve(partitions.flatMap((p) => this.byPartition.get(p) ?? []));
  }
}

/** Records what would have been sent to Kafka; `failNext` makes one send fail. */
class Sent {
  readonly records: ProducerRecord[] = [];
  failNext = false;
  send(r: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('broker unavailable'));
    }
    this.records.push(r);
    return Promise.resolve([]);
  }
  get messages(): Message[] {
    return this.records.flatMap((r) => r.messages);
  }
}

function setup(maxSilenceMs = 60_000) {
  const heads = new Heads();
  const sent = new Sent();
  const clock = { ms: Date.UTC(2026, 11, 6, 10) };
  const publisher = new AuditHeadPublisher({ store: heads, producer: sent, signer, topics, schemaId: 42, workerId: 'w1', maxSilenceMs, logger, now: () => clock.ms });
  return { heads, sent, clock, publisher };
}

describe('AuditHeadPublisher', () => {
  it('publishes a signed AuditHead per owned partition with a chain, keyed p<partition>, in the wire format', async () => {
    const { heads, sent, publisher } = setup();
    heads.set(0, 7, hash('a'));
    heads.set(2, 3, hash('b'));
    heads.set(5, 1, hash('c')); // not owned
    const published = await publisher.publish([0, 1, 2]);
    expect(published.map((h) => `${h.partition}:${h.seq}`)).toEqual(['0:7', '2:3']);
    expect(sent.records).toHaveLength(1);
    expect(sent.records[0]).toMatchObject({ topic: topics.auditHeads, acks: -1 });
    const [m] = sent.messages;
    expect(m!.key).toBe('p0');
    const frame = decodeWire(m!.value as Buffer);
    expect(frame.schemaId).toBe(42);
    expect(AuditHead.parse(JSON.parse(frame.payload.toString()))).toEqual({ kind: 'audit.head', topic: topics.events, partition: 0, seq: '7', hash: 'a'.repeat(64), nextOffset: '70', at: '2026-12-06T10:00:00.000Z', workerId: 'w1' });
    expect(verifier.check(topics.auditHeads, 'p0', m!.value as Buffer, m!.headers).kid).toBe('worker-key');
  });

  it('is read back by the heads collector of the store as verified heads', async () => {
    const { heads, sent, publisher } = setup();
    heads.set(0, 7, hash('a'));
    heads.set(1, 2, hash('b'));
    await publisher.publish([0, 1]);
    const collector = new AuditHeadCollector(topics.events, verifier, 10_000, topics.auditHeads);
    sent.messages.forEach((m, i) => collector.take(0, { offset: String(i), key: Buffer.from(m.key as string), value: m.value as Buffer, headers: m.headers ?? {} }));
    const read = collector.result();
    expect(read.rejectedCount).toBe(0);
    expect([...read.latest.values()].map((h) => `${h.partition}:${h.seq}:${h.hash.slice(0, 2)}`)).toEqual(['0:7:aa', '1:2:bb']);
  });

  it('publishes only heads that changed since its last publication', async () => {
    const { heads, sent, clock, publisher } = setup();
    heads.set(0, 7, hash('a'));
    heads.set(1, 2, hash('b'));
    await publisher.publish([0, 1]);
    clock.ms += 10_000;
    expect(await publisher.publish([0, 1])).toEqual([]);
    heads.set(1, 5, hash('c'));
    clock.ms += 10_000;
    expect((await publisher.publish([0, 1])).map((h) => `${h.partition}:${h.seq}`)).toEqual(['1:5']);
    // Same seq, other hash (the chain was rewritten under it): changed too.
    heads.set(0, 7, hash('d'));
    expect((await publisher.publish([0, 1])).map((h) => `${h.partition}:${h.seq}:${h.hash.slice(0, 2)}`)).toEqual(['0:7:dd']);
    expect(sent.records).toHaveLength(3);
  });

  it('publishes an unchanged head again after maxSilenceMs', async () => {
    const { heads, clock, publisher } = setup(60_000);
    heads.set(0, 7, hash('a'));
    await publisher.publish([0]);
    clock.ms += 59_999;
    expect(await publisher.publish([0])).toEqual([]);
    clock.ms += 1;
    expect((await publisher.publish([0])).map((h) => h.at)).toEqual(['2026-12-06T10:01:00.000Z']);
  });

  it('remembers nothing when the read or the send fails, so the next call publishes', async () => {
    const { heads, sent, publisher } = setup();
    heads.set(0, 7, hash('a'));
    sent.failNext = true;
    await expect(publisher.publish([0])).rejects.toThrow('broker unavailable');
    heads.failNext = true;
    await expect(publisher.publish([0])).rejects.toThrow('PostgreSQL unavailable');
    expect((await publisher.publish([0])).map((h) => h.seq)).toEqual(['7']);
  });

  it('publishes on its timer, for the partitions owned at each tick', async () => {
    const { heads, sent, publisher } = setup();
    let owned = [0];
    heads.set(0, 1, hash('a'));
    heads.set(1, 1, hash('b'));
    publisher.start(() => owned, 5);
    await waitFor('the first timed publication', () => sent.messages.length >= 1, 10_000, 5);
    expect(sent.messages.map((m) => m.key)).toEqual(['p0']);
    owned = [0, 1];
    await waitFor('partition 1 published once it is owned', () => sent.messages.some((m) => m.key === 'p1'), 10_000, 5);
    await publisher.stop();
  });

  it('publishes the heads that changed since the last tick on stop', async () => {
    const { heads, sent, publisher } = setup();
    heads.set(0, 1, hash('a'));
    heads.set(1, 1, hash('b'));
    await publisher.publish([0, 1]);
    publisher.start(() => [0, 1], 3_600_000); // no tick during the test
    heads.set(0, 2, hash('c'));
    await publisher.stop();
    const decoded = sent.messages.map((m) => AuditHead.parse(JSON.parse(decodeWire(m.value as Buffer).payload.toString())));
    expect(decoded.map((h) => `${h.partition}:${h.seq}`)).toEqual(['0:1', '1:1', '0:2']);
  });

  it('logs and does not throw when the final publication fails on stop', async () => {
    const { heads, sent, publisher } = setup();
    heads.set(0, 1, hash('a'));
    publisher.start(() => [0], 3_600_000);
    sent.failNext = true;
    await expect(publisher.stop()).resolves.toBeUndefined();
    expect(sent.messages).toEqual([]);
  });
});
