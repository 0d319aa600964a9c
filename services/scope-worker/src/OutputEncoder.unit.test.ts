import { topicNames, valueSubject, type ScopeChange, type ScopeSnapshot } from '@livescope/contracts';
import { emptyOutput } from '@livescope/scope-engine';
import { CommandSigner, CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey, SIGNATURE_HEADER } from '@livescope/transport';
import type { Message, TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { OutputEncoder, type CommandTraces } from './OutputEncoder.js';

const keys = generateSigningKeyPair('k1');
const key = parsePrivateKey(keys.kid, keys.privateKey);
const topics = topicNames('');
const ids = new Map(Object.values(topics).map((t, i) => [valueSubject(t), 100 + i]));

function output(n: number): ReturnType<typeof emptyOutput> {
  const out = emptyOutput();
  for (let i = 0; i < n; i++) {
    const body = { identityId: `id-${i % 7}` as never, version: i + 1, at: '2026-11-28T12:00:00.000Z', status: 'active' as const, permissions: [], sessions: [] };
    const change: ScopeChange = { kind: 'scope.change', ...body, previousVersion: i, direction: 'refresh', added: [], removed: [], cause: { eventId: `e${i}` } };
    const snapshot: ScopeSnapshot = { kind: 'scope.snapshot', ...body };
    out.changes.push(change);
    out.snapshots.push(snapshot);
  }
  return out;
}

describe('OutputEncoder batches', () => {
  it('signs a whole batch with one signature; each command verifies on its own, bound to its topic and key', () => {
    const msgs = new OutputEncoder(topics, ids, new CommandSigner(key)).encode(output(40), [], []);
    const verifier = new CommandVerifier([parsePublicKey(keys.kid, keys.publicKey)]);
    const all = msgs.flatMap((t) => t.messages.map((m) => ({ topic: t.topic, m })));
    expect(new Set(all.map(({ m }) => (m.headers![SIGNATURE_HEADER] as Buffer).toString('hex'))).size).toBe(1);
    for (const { topic, m } of all) expect(verifier.check(topic, m.key as string, m.value as Buffer, m.headers).kid).toBe(keys.kid);
    expect(verifier.signatureChecks).toBe(1);
    // Deterministic: the same outputs give byte-identical messages (a replay after a crash).
    expect(new OutputEncoder(topics, ids, new CommandSigner(key)).encode(output(40), [], [])).toEqual(msgs);
  });

  it('sends only the last snapshot of an identity in a batch (the topic is compacted; changes carry full scope)', () => {
    const msgs = new OutputEncoder(topics, ids, new CommandSigner(key)).encode(output(40), [], []);
    expect(msgs.find((t) => t.topic === topics.scopeChanges)!.messages).toHaveLength(40);
    const snaps = msgs.find((t) => t.topic === topics.scopeSnapshots)!.messages;
    expect(snaps.map((m) => m.key)).toEqual(['id-5', 'id-6', 'id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
  });
});

describe('OutputEncoder.requests (regression: a large batch of outputs exceeded message.max.bytes and was retried forever)', () => {
  const big = (n: number): ReturnType<typeof emptyOutput> => {
    const out = output(n);
    // Permissions make the values large enough to need several requests.
    for (const c of out.changes) c.permissions.push(...Array.from({ length: 20 }, (_, i) => ({ action: `db:read-${i}`, resource: `db/${c.identityId}/${i}`, access: 'read' as const, validUntil: null, grants: ['g1'] })));
    return out;
  };

  it('splits outputs into requests under the limit (signature headers included), in order per topic, each request signed on its own', () => {
    const audit: Parameters<OutputEncoder['encode']>[2] = [];
    const encoder = new OutputEncoder(topics, ids, new CommandSigner(key));
    const requests = [...encoder.requests(big(120), [], audit, 20_000)];
    expect(requests.length).toBeGreaterThan(3);
    const bytes = (m: Message): number => (m.value as Buffer).length + String(m.key).length + Object.entries(m.headers ?? {}).reduce((n, [k, v]) => n + k.length + (v as Buffer | string).length, 0);
    for (const r of requests) expect(r.flatMap((t) => t.messages).reduce((n, m) => n + bytes(m), 0)).toBeLessThanOrEqual(20_000);
    // The same messages, in the same order per topic, as one batch gives.
    const whole = encoder.encode(big(120), [], []);
    for (const topic of [topics.scopeChanges, topics.scopeSnapshots]) {
      const keysOf = (ts: TopicMessages[]): unknown[] => ts.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => [m.key, (m.value as Buffer).toString('hex')]));
      expect(requests.flatMap(keysOf)).toEqual(keysOf(whole));
    }
    // One signature per request; every command verifies on its own.
    const verifier = new CommandVerifier([parsePublicKey(keys.kid, keys.publicKey)]);
    for (const r of requests) {
      const all = r.flatMap((t) => t.messages.map((m) => ({ topic: t.topic, m })));
      expect(new Set(all.map(({ m }) => (m.headers![SIGNATURE_HEADER] as Buffer).toString('hex'))).size).toBe(1);
      for (const { topic, m } of all) expect(verifier.check(topic, m.key as string, m.value as Buffer, m.headers).kid).toBe(keys.kid);
    }
    expect(verifier.signatureChecks).toBe(requests.length);
    // Every change has its audit row, in order.
    expect(audit.map((a) => a.version)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
  });

  it('a message larger than the limit goes alone', () => {
    const encoder = new OutputEncoder(topics, ids, new CommandSigner(key));
    const out = output(3);
    out.changes[1]!.permissions.push(...Array.from({ length: 200 }, (_, i) => ({ action: `a${i}`, resource: `r${i}`.repeat(10), access: 'read' as const, validUntil: null, grants: ['g1'] })));
    out.snapshots.length = 0;
    expect([...encoder.requests(out, [], [], 5_000)].map((r) => r.flatMap((t) => t.messages).length)).toEqual([1, 1, 1]);
  });
});

describe('OutputEncoder trace headers (unsigned metadata beside the signature)', () => {
  it('each command carries the trace headers of the event that produced it; signatures still verify', () => {
    const out = output(10);
    // Changes and snapshots 0-3 from one traced event, 6-9 from another, 4-5 from an untraced one.
    const a: Record<string, string> = { traceparent: 'tp-a' };
    const b: Record<string, string> = { traceparent: 'tp-b', tracestate: 'v=1' };
    const traces: CommandTraces = { headersFor: (_kind, i) => (i < 4 ? a : i >= 6 ? b : undefined) };
    const traced = new OutputEncoder(topics, ids, new CommandSigner(key)).encode(out, [], [], traces);
    const plain = new OutputEncoder(topics, ids, new CommandSigner(key)).encode(output(10), [], []);
    const changes = traced.find((t) => t.topic === topics.scopeChanges)!.messages;
    expect(changes.map((m) => m.headers!.traceparent)).toEqual(['tp-a', 'tp-a', 'tp-a', 'tp-a', undefined, undefined, 'tp-b', 'tp-b', 'tp-b', 'tp-b']);
    expect(changes[9]!.headers!.tracestate).toBe('v=1');
    // Snapshots keep their own index (the last of each identity is sent: indexes 3..9).
    const snaps = traced.find((t) => t.topic === topics.scopeSnapshots)!.messages;
    expect(snaps.map((m) => m.headers!.traceparent)).toEqual(['tp-a', undefined, undefined, 'tp-b', 'tp-b', 'tp-b', 'tp-b']);
    // Same values and signatures as without tracing: the headers are outside what is signed.
    const verifier = new CommandVerifier([parsePublicKey(keys.kid, keys.publicKey)]);
    traced.forEach((t, ti) =>
      t.messages.forEach((m, mi) => {
        const { traceparent: _p, tracestate: _s, ...signed } = m.headers!;
        expect(signed).toEqual(plain[ti]!.messages[mi]!.headers);
        expect(verifier.check(t.topic, m.key as string, m.value as Buffer, m.headers).kid).toBe(keys.kid);
      }),
    );
  });
});
