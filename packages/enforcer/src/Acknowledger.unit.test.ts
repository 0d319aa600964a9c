import { decodeMessage, EnforcerAck } from '@livescope/contracts';
import { CommandVerifier } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { AckBuffer, type AckEntry } from './AckBuffer.js';
import { Acknowledger, type AckSend } from './Acknowledger.js';
import { T0, testKeys, topics } from './testing/builders.js';

const entry = (i: number): AckEntry => ({ identityId: `sa-${i}` as AckEntry['identityId'], version: 1, producedAt: new Date(T0).toISOString(), appliedAt: new Date(T0 + 5).toISOString(), kind: 'scope.change' });
const DECODE = { maxBytes: 1 << 24, isKnownSchemaId: () => true };

/** The kafkajs producer boundary: records what was sent, fails while `down`. */
class FakeProducer implements AckSend {
  sent: { topic: string; key: string; value: Buffer; headers: Record<string, unknown> | undefined }[] = [];
  down = false;
  send(record: Parameters<AckSend['send']>[0]): Promise<unknown> {
    if (this.down) return Promise.reject(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true }));
    for (const m of record.messages) this.sent.push({ topic: record.topic, key: m.key, value: m.value, headers: m.headers });
    return Promise.resolve([]);
  }
  acks(): EnforcerAck[] {
    return this.sent.map((m) => decodeMessage(EnforcerAck, m.value, DECODE, 'ack'));
  }
}

describe('AckBuffer', () => {
  it('is bounded: the oldest entries are dropped and counted', () => {
    const b = new AckBuffer(3);
    for (let i = 0; i < 5; i++) b.push(entry(i));
    expect(b.size).toBe(3);
    expect(b.dropped).toBe(2);
    expect(b.take(10).applied.map((e) => e.identityId)).toEqual(['sa-2', 'sa-3', 'sa-4']);
    expect(b.size).toBe(0);
  });

  it('takes in order and puts back in front, still bounded', () => {
    const b = new AckBuffer(4);
    for (let i = 0; i < 4; i++) b.push(entry(i));
    b.rejected = 2;
    const taken = b.take(3);
    expect(taken).toMatchObject({ rejected: 2 });
    b.push(entry(4));
    b.push(entry(5));
    expect(b.requeue(taken)).toBe(2);
    expect(b.take(10).applied.map((e) => e.identityId)).toEqual(['sa-2', 'sa-3', 'sa-4', 'sa-5']);
    expect(b.rejected).toBe(0);
  });
});

describe('Acknowledger', () => {
  it('sends everything pending in messages of at most entriesPerMessage entries, keyed by the enforcer id', async () => {
    const buffer = new AckBuffer();
    for (let i = 0; i < 5; i++) buffer.push(entry(i));
    buffer.rejected = 3;
    const producer = new FakeProducer();
    await new Acknowledger({ enforcerId: 'gw-1', topic: topics.enforcerAcks, schemaId: 7, buffer, identities: () => 42, entriesPerMessage: 2 }).flush(producer, () => T0);
    expect(producer.sent.map((m) => [m.topic, m.key, m.headers])).toEqual([
      [topics.enforcerAcks, 'gw-1', undefined],
      [topics.enforcerAcks, 'gw-1', undefined],
      [topics.enforcerAcks, 'gw-1', undefined],
    ]);
    const acks = producer.acks();
    expect(acks.map((a) => a.applied.length)).toEqual([2, 2, 1]);
    expect(acks.map((a) => a.rejected)).toEqual([3, 0, 0]);
    expect(acks[0]).toMatchObject({ kind: 'enforcer.ack', enforcerId: 'gw-1', identities: 42, at: new Date(T0).toISOString() });
    expect(buffer.size).toBe(0);
  });

  it('signs every acknowledgement with the enforcement point key over the acks topic and its id', async () => {
    const keys = testKeys('gw-1-key', 3);
    const buffer = new AckBuffer();
    buffer.push(entry(1));
    const producer = new FakeProducer();
    await new Acknowledger({ enforcerId: 'gw-1', topic: topics.enforcerAcks, schemaId: 7, buffer, identities: () => 1, signer: keys.signer }).flush(producer);
    const [m] = producer.sent;
    const verifier = new CommandVerifier([keys.trusted]);
    expect(verifier.check(topics.enforcerAcks, 'gw-1', m!.value, m!.headers as never)).toEqual({ kid: 'gw-1-key', epoch: 3 });
    // The same bytes claimed by another enforcer (key), or moved to another topic, do not verify.
    expect(() => verifier.check(topics.enforcerAcks, 'gw-2', m!.value, m!.headers as never)).toThrow(/does not match/);
    expect(() => verifier.check(topics.driftAlerts, 'gw-1', m!.value, m!.headers as never)).toThrow(/does not match/);
  });

  it('puts the entries back when the broker refuses, and sends them at the next flush', async () => {
    const buffer = new AckBuffer();
    for (let i = 0; i < 3; i++) buffer.push(entry(i));
    buffer.rejected = 1;
    const producer = new FakeProducer();
    const ack = new Acknowledger({ enforcerId: 'gw-1', topic: topics.enforcerAcks, schemaId: 7, buffer, identities: () => 3, entriesPerMessage: 2 });
    producer.down = true;
    await expect(ack.flush(producer)).rejects.toThrow(/ECONNREFUSED/);
    expect(buffer.size).toBe(3);
    expect(buffer.rejected).toBe(1);
    producer.down = false;
    await ack.flush(producer);
    expect(producer.acks().flatMap((a) => a.applied.map((e) => e.identityId))).toEqual(['sa-0', 'sa-1', 'sa-2']);
    expect(producer.acks().reduce((n, a) => n + a.rejected, 0)).toBe(1);
  });

  it('a flush asked for while one runs joins it (no pile-up while the broker is slow)', async () => {
    const buffer = new AckBuffer();
    buffer.push(entry(1));
    let release!: () => void;
    let calls = 0;
    const slow: AckSend = { send: () => ((calls++, new Promise((r) => (release = () => r([]))))) };
    const ack = new Acknowledger({ enforcerId: 'gw-1', topic: topics.enforcerAcks, schemaId: 7, buffer, identities: () => 1 });
    const first = ack.flush(slow);
    const second = ack.flush(slow);
    expect(second).toBe(first);
    release();
    await first;
    expect(calls).toBe(1);
  });
});
