import { encodeWire, type AuditHead } from '@livescope/contracts';
import { CommandSigner, CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { AuditHeadCollector } from './readAuditHeads.js';

const worker = generateSigningKeyPair('worker-key');
const signer = new CommandSigner(parsePrivateKey(worker.kid, worker.privateKey));
const verifier = new CommandVerifier([parsePublicKey(worker.kid, worker.publicKey)]);
// An attacker's key under the worker's key id: the header says `worker-key`, the signature is not the worker's.
const mallory = generateSigningKeyPair('worker-key');
const forger = new CommandSigner(parsePrivateKey(mallory.kid, mallory.privateKey));

const EVENTS = 'livescope.events.v1';
const hex = (c: string): string => c.repeat(64);
const HEADS_TOPIC = 'livescope.audit.heads.v1';
const head = (partition: number, seq: number, hash: string, extra: Partial<AuditHead> = {}): AuditHead => ({ kind: 'audit.head', topic: EVENTS, partition, seq: String(seq), hash, nextOffset: '10', at: '2026-12-06T10:00:00.000Z', workerId: 'w1', ...extra });
let offset = 0;
const message = (value: unknown, by: CommandSigner | null = signer) => {
  const bytes = encodeWire(7, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
  return { offset: String(offset++), key: Buffer.from('p0'), value: bytes, headers: by ? by.headers(HEADS_TOPIC, 'p0', bytes) : {} };
};

describe('collecting signed audit heads', () => {
  it('keeps verified heads, distinct per (seq, hash), sorted, with the highest seq as the latest', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 10_000, HEADS_TOPIC);
    for (const h of [head(0, 5, hex('a')), head(0, 9, hex('b')), head(0, 5, hex('a')), head(0, 7, hex('c')), head(1, 2, hex('d'))]) c.take(0, message(h));
    const r = c.result();
    expect(r.messages).toBe(5);
    expect(r.heads.get(0)!.map((h) => h.seq)).toEqual([5, 7, 9]);
    expect(r.latest.get(0)).toMatchObject({ partition: 0, seq: 9, hash: hex('b'), kid: 'worker-key', workerId: 'w1' });
    expect(r.latest.get(1)!.seq).toBe(2);
    expect(r.rejectedCount).toBe(0);
  });

  it('rejects a forged head (signed by another key under the same key id) and never uses it', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 10_000, HEADS_TOPIC);
    c.take(0, message(head(0, 5, hex('a'))));
    const forged = c.take(0, message(head(0, 500, hex('f')), forger));
    expect(forged).toMatchObject({ reason: 'signature', detail: expect.stringMatching(/does not match/) as string });
    const r = c.result();
    expect(r.latest.get(0)!.seq).toBe(5);
    expect(r.heads.get(0)!.map((h) => h.seq)).toEqual([5]);
    expect(r.rejected).toEqual([expect.objectContaining({ reason: 'signature', key: 'p0' })]);
  });

  it('rejects unsigned heads, unknown keys and a value altered after signing', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 10_000, HEADS_TOPIC);
    c.take(0, message(head(0, 5, hex('a')), null));
    const other = generateSigningKeyPair('other-key');
    c.take(0, message(head(0, 5, hex('a')), new CommandSigner(parsePrivateKey(other.kid, other.privateKey))));
    const m = message(head(0, 5, hex('a')));
    const altered = Buffer.from(m.value.toString('latin1').replace('"seq":"5"', '"seq":"9"'), 'latin1');
    c.take(0, { ...m, value: altered });
    const r = c.result();
    expect(r.rejected.map((x) => x.detail)).toEqual([expect.stringMatching(/not signed/), expect.stringMatching(/unknown key id other-key/), expect.stringMatching(/does not match/)]);
    expect(r.heads.size).toBe(0);
  });

  it('rejects signed values that are not audit heads', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 10_000, HEADS_TOPIC);
    c.take(0, message('{not json'));
    c.take(0, message({ kind: 'heartbeat' }));
    c.take(0, message(head(0, 5, 'nothex')));
    c.take(0, message(head(0, -1, hex('a'))));
    c.take(0, message(head(0, 5, hex('a'), { seq: '05' })));
    expect(c.result().rejected.map((x) => x.reason)).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'malformed']);
  });

  it('counts heads of another events topic without using them', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 10_000, HEADS_TOPIC);
    c.take(0, message(head(0, 5, hex('a'), { topic: 'other.events' })));
    expect(c.result()).toMatchObject({ otherTopic: 1, rejectedCount: 0 });
    expect(c.result().heads.size).toBe(0);
  });

  it('bounds the heads kept per partition, keeping the most recent and always the highest seq', () => {
    const c = new AuditHeadCollector(EVENTS, verifier, 3, HEADS_TOPIC);
    c.take(0, message(head(0, 100, hex('a'))));
    for (let seq = 1; seq <= 5; seq++) c.take(0, message(head(0, seq, hex('b'))));
    const r = c.result();
    expect(r.heads.get(0)!.map((h) => h.seq)).toEqual([4, 5, 100]);
    expect(r.evicted).toBe(3);
    expect(r.latest.get(0)!.seq).toBe(100);
  });
});
