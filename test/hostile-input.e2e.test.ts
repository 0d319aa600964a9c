import { createHash } from 'node:crypto';
import { encodeWire, encodeWireJson, identityEvent, broadcastEvent, type DeadLetter, type LivescopeEvent, type LivescopeEventInput } from '@livescope/contracts';
import { decodeIdentity, PermInterner, toScopePermission } from '@livescope/scope-engine';
import { PipelineFixture, waitFor, WorkerProcess } from '@livescope/testkit';
import { BROADCAST_KEY, generateSigningKeyPair, partitionForKey, ProducerSigner } from '@livescope/transport';
import type { Message } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The hostile-input suite (issue 13): a seeded generator of more than 10,000 malformed messages —
 * random bytes, wrong magic bytes, unknown schema ids, prototype-named types and keys, deep
 * nesting, near-megabyte strings, out-of-range numbers, valid envelopes with invalid data, future
 * and stale timestamps, duplicate ids, key ≠ subject, unsigned and forged control events — is
 * interleaved with a known good workload across every partition, against a real worker process.
 *
 * It asserts that every partition reaches its end offset within a bound, that every bad message is
 * dead-lettered with a reason (counts equal, duplicates counted as ignored), that every identity's
 * final state equals a clean run of the good workload alone, and that no process exits. It prints
 * the count per reason.
 */
const PARTITIONS = 6;
const BAD_TARGET = 10_200;
const IDENTITIES = 48;

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.LIVESCOPE_HOSTILE_SEED ?? 20261206);

/** The good workload: identities on every partition with grants, sessions, approvals-free policy inputs. Nothing expires during the test. */
function goodWorkload(runTag: string): LivescopeEventInput[] {
  const now = Date.now();
  const far = new Date(now + 7 * 86_400_000).toISOString();
  const out: LivescopeEventInput[] = [];
  for (let i = 0; i < IDENTITIES; i++) {
    const id = `hostile-${i}`;
    const t = (k: number): string => new Date(now + k).toISOString();
    out.push(identityEvent('identity.created', id, { kind: i % 2 ? 'agent' : 'workload', name: id, namespace: `ns-${i % 4}`, owner: 'team-h' }, { id: `${runTag}/${id}/c`, time: t(0) }));
    out.push(identityEvent('entitlement.granted', id, { grantId: `${id}/g1`, role: 'reader', permissions: [{ action: 'db:read', resource: `db/${i}`, access: 'read' }, { action: 'db:write', resource: `db/${i}`, access: 'write' }] }, { id: `${runTag}/${id}/g1`, time: t(1) }));
    out.push(identityEvent('session.started', id, { sessionId: `${id}/s1`, task: 'etl' }, { id: `${runTag}/${id}/s1`, time: t(2) }));
    if (i % 3 === 0) out.push(identityEvent('jit.granted', id, { grantId: `${id}/j1`, sessionId: `${id}/s1`, expiresAt: far, permissions: [{ action: 'vault:read', resource: `secret/${i}`, access: 'read' }] }, { id: `${runTag}/${id}/j1`, time: t(3) }));
    if (i % 4 === 1) out.push(identityEvent('entitlement.revoked', id, { grantId: `${id}/g1` }, { id: `${runTag}/${id}/r1`, time: t(4) }));
    out.push(identityEvent('telemetry.risk-scored', id, { score: 10 + i }, { id: `${runTag}/${id}/risk`, time: t(5) }));
  }
  out.push(broadcastEvent('order.issued', { orderId: `${runTag}-ro`, kind: 'read-only', target: { selector: { namespace: 'ns-2' } }, reason: 'drill', actor: 'oncall' }, { id: `${runTag}/order`, time: new Date(now + 10).toISOString() }));
  return out;
}

interface Bad {
  readonly message: Message;
  /** The dead-letter reasons it may get (several where the decoder's order of checks decides), or 'duplicate'. */
  readonly expect: readonly string[];
  readonly kind: string;
}

const PROTO_NAMES = ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__'];

/** The seeded generator of malformed messages (each with the reasons it may be dead-lettered with). */
function badMessages(fx: PipelineFixture, goodEvents: readonly LivescopeEvent[], rnd: () => number): Bad[] {
  const out: Bad[] = [];
  const sid = fx.eventsSchemaId;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (n: number): number => Math.floor(rnd() * n);
  const ids = goodEvents.filter((e): e is Extract<LivescopeEvent, { subject: string }> => 'subject' in e).map((e) => e.subject);
  const someId = (): string => pick(ids);
  const now = Date.now();
  const envelope = (type: string, subject: string, data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ specversion: '1.0', id: `bad-${out.length}-${int(1e9)}`, source: 'hostile', time: new Date(now).toISOString(), type, subject, data, ...extra });
  const wire = (v: unknown): Buffer => encodeWireJson(sid, v);
  const forger = ProducerSigner.fromConfig('forger', generateSigningKeyPair('forger').privateKey);
  const signed = (key: string | null, value: Buffer): Message => ({ key, value, headers: fx.producerHeaders(key, value) });
  const generators: [string, () => Bad][] = [
    ['random bytes', () => ({ kind: 'random bytes', message: { key: someId(), value: Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256)).map((b, i) => (i === 0 ? (b === 0 ? 1 : b) : b))) }, expect: ['not-wire-format'] })],
    ['empty or short', () => ({ kind: 'empty or short', message: { key: someId(), value: Buffer.from(Array.from({ length: int(5) }, () => 0)) }, expect: ['not-wire-format'] })],
    ['wrong magic byte', () => ({ kind: 'wrong magic byte', message: { key: someId(), value: Buffer.concat([Buffer.from([1 + int(255)]), wire(envelope('telemetry.activity', someId(), { action: 'db:read', resource: 'db/x' })).subarray(1)]) }, expect: ['not-wire-format'] })],
    ['unknown schema id', () => ({ kind: 'unknown schema id', message: { key: someId(), value: encodeWireJson(900_000 + int(90_000), envelope('telemetry.activity', someId(), { action: 'db:read', resource: 'db/x' })) }, expect: ['unknown-schema-id'] })],
    ['not json', () => ({ kind: 'not json', message: { key: someId(), value: encodeWire(sid, Buffer.from(pick(['{', '{"a":', 'nul', '\u0000\u0001', '{"type":"x"}}', '[1,2', "{'single':1}"]))) }, expect: ['not-json'] })],
    [
      'prototype-named type',
      () => {
        const id = someId();
        return { kind: 'prototype-named type', message: signed(id, wire(envelope(pick(PROTO_NAMES), id, { reject: 1 }))), expect: ['schema-invalid'] };
      },
    ],
    [
      'prototype-named keys',
      () => {
        const id = someId();
        const name = pick(PROTO_NAMES);
        const text = `{"specversion":"1.0","id":"bad-${out.length}","source":"h","time":"${new Date(now).toISOString()}","type":"telemetry.activity","subject":"${id}","data":{"action":"db:read","resource":"db/x","${name}":{"polluted":true}}}`;
        return { kind: 'prototype-named keys', message: signed(id, encodeWire(sid, Buffer.from(text))), expect: ['schema-invalid'] };
      },
    ],
    [
      'deep nesting',
      () => {
        const id = someId();
        const depth = 2000 + int(8000);
        const text = `{"specversion":"1.0","id":"bad-${out.length}","source":"h","time":"${new Date(now).toISOString()}","type":"identity.updated","subject":"${id}","data":{"labels":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
        return { kind: 'deep nesting', message: signed(id, encodeWire(sid, Buffer.from(text))), expect: ['schema-invalid', 'not-json', 'unprocessable'] };
      },
    ],
    [
      'near-megabyte string',
      () => {
        const id = someId();
        return { kind: 'near-megabyte string', message: signed(id, wire(envelope('telemetry.activity', id, { action: 'db:read', resource: 'r'.repeat(600_000 + int(300_000)) }))), expect: ['schema-invalid'] };
      },
    ],
    [
      'out-of-range numbers',
      () => {
        const id = someId();
        const score = pick(['1e309', '-1', '101', '1.5', '9007199254740993', '-0.0000001', '"12"', 'null']);
        const text = `{"specversion":"1.0","id":"bad-${out.length}","source":"h","time":"${new Date(now).toISOString()}","type":"telemetry.risk-scored","subject":"${id}","data":{"score":${score}}}`;
        return { kind: 'out-of-range numbers', message: signed(id, encodeWire(sid, Buffer.from(text))), expect: ['schema-invalid'] };
      },
    ],
    [
      'valid envelope, invalid data',
      () => {
        const id = someId();
        const data = pick<unknown>([{ sessionId: '' }, { sessionId: 'a b' }, { grantId: 'g', role: 'r', permissions: [] }, { kind: 'robot' }, null, [], 'x', { action: '', resource: 'r' }, { score: '10' }]);
        return { kind: 'valid envelope, invalid data', message: signed(id, wire(envelope(pick(['session.started', 'entitlement.granted', 'identity.created', 'telemetry.activity', 'telemetry.risk-scored']), id, data))), expect: ['schema-invalid'] };
      },
    ],
    [
      'future timestamp',
      () => {
        const id = someId();
        return { kind: 'future timestamp', message: signed(id, wire(envelope('telemetry.risk-scored', id, { score: 99 }, { time: new Date(now + 3 * 3_600_000).toISOString() }))), expect: ['timestamp-in-future'] };
      },
    ],
    [
      'stale signed control event',
      () => {
        const id = someId();
        return {
          kind: 'stale signed control event',
          message: signed(id, wire(envelope('entitlement.granted', id, { grantId: `stale-${out.length}`, role: 'admin', permissions: [{ action: 'db:admin', resource: 'db/all', access: 'admin' }] }, { time: new Date(now - 3_600_000).toISOString() }))),
          expect: ['stale-control-event'],
        };
      },
    ],
    [
      'key ≠ subject',
      () => {
        const id = someId();
        return { kind: 'key ≠ subject', message: signed(`not-${id}`, wire(envelope('telemetry.activity', id, { action: 'db:read', resource: 'db/x' }))), expect: ['key-mismatch'] };
      },
    ],
    ['missing key', () => ({ kind: 'missing key', message: signed(null, wire(envelope('telemetry.activity', someId(), { action: 'db:read', resource: 'db/x' }))), expect: ['missing-key'] })],
    [
      'unsigned control event',
      () => {
        const id = someId();
        const value = wire(envelope(pick(['entitlement.granted', 'identity.enabled', 'session.approval-granted']), id, pick<unknown>([{ grantId: `u-${out.length}`, role: 'admin', permissions: [{ action: 'db:admin', resource: 'db/all', access: 'admin' }] }])));
        return { kind: 'unsigned control event', message: { key: id, value }, expect: ['unauthorized-producer', 'schema-invalid'] };
      },
    ],
    [
      'forged control event',
      () => {
        const id = someId();
        const value = wire(envelope('entitlement.granted', id, { grantId: `f-${out.length}`, role: 'admin', permissions: [{ action: 'db:admin', resource: 'db/all', access: 'admin' }] }));
        return { kind: 'forged control event', message: { key: id, value, headers: { ...forger.headers(fx.topics.events, id, value), 'livescope-producer-kid': fx.producerKeys.kid } }, expect: ['unauthorized-producer'] };
      },
    ],
    [
      'unsigned broadcast lift',
      () => ({ kind: 'unsigned broadcast lift', message: { key: BROADCAST_KEY, partition: int(PARTITIONS), value: wire({ specversion: '1.0', id: `lift-${out.length}`, source: 'h', time: new Date(now).toISOString(), type: 'order.lifted', data: { orderId: 'anything', actor: 'mallory' } }) }, expect: ['unauthorized-producer'] }),
    ],
    [
      'unknown identity',
      () => {
        const id = `ghost-${int(1e6)}`;
        return { kind: 'unknown identity', message: signed(id, wire(envelope('telemetry.activity', id, { action: 'db:read', resource: 'db/x' }))), expect: ['unknown-identity'] };
      },
    ],
  ];
  while (out.length < BAD_TARGET) {
    const [, gen] = generators[out.length % generators.length]!;
    out.push(gen());
  }
  return out;
}

/** What must be identical between the hostile run and the clean run, per identity. */
function normalised(state: string): unknown {
  const s = decodeIdentity(state, new PermInterner());
  return {
    status: s.status,
    attested: s.attested,
    version: s.version,
    scope: s.scope.map(toScopePermission),
    sessions: s.sessions.map((x) => `${x.sessionId}:${x.attested}`),
    grants: s.grants.map((g) => g.grantId),
    jit: s.jit.map((g) => g.grantId),
    riskScore: s.riskScore,
  };
}

async function finalStates(fx: PipelineFixture): Promise<Map<string, unknown>> {
  const store = await fx.store();
  const rows = await store.query<{ identity_id: string; state: string }>(`SELECT identity_id, state FROM ${fx.schema}.identity_state ORDER BY identity_id`, [], 'read final states');
  return new Map(rows.rows.map((r) => [r.identity_id, normalised(r.state)]));
}

async function untilEveryPartitionApplied(fx: PipelineFixture, workers: WorkerProcess[], timeoutMs: number): Promise<void> {
  const store = await fx.store();
  await waitFor(
    'every partition of the events topic applied to its end offset',
    async () => {
      for (const w of workers) if (w.crashed) throw new Error(`worker ${w.name} exited: ${w.crashed}`);
      const ends = await fx.admin.fetchTopicOffsets(fx.topics.events);
      const rows = await store.query<{ partition: number; next_offset: string }>(`SELECT partition, next_offset FROM ${fx.schema}.partition_state`, [], 'read offsets');
      const at = new Map(rows.rows.map((r) => [r.partition, BigInt(r.next_offset)]));
      return ends.every((e) => (at.get(e.partition) ?? -1n) >= BigInt(e.high));
    },
    timeoutMs,
    250,
  );
}

const fixtures: PipelineFixture[] = [];
const workers: WorkerProcess[] = [];
afterAll(async () => {
  for (const w of workers) await w.stop();
  for (const f of fixtures) await f.close();
});

describe('hostile input never stops or bends the pipeline', () => {
  it('survives more than 10,000 malformed messages interleaved with a good workload on every partition', { timeout: 600_000 }, async () => {
    // The clean run: the good workload alone.
    const clean = await new PipelineFixture(PARTITIONS).open();
    fixtures.push(clean);
    const cleanWorker = new WorkerProcess('clean', clean.workerEnv()).start();
    workers.push(cleanWorker);
    const good = goodWorkload('good');
    await clean.publish(good);
    await untilEveryPartitionApplied(clean, [cleanWorker], 120_000);
    const expected = await finalStates(clean);
    expect(expected.size).toBe(IDENTITIES);

    // The hostile run: the same good workload, in the same order per identity, with bad messages in between.
    const fx = await new PipelineFixture(PARTITIONS).open();
    fixtures.push(fx);
    const worker = new WorkerProcess('hostile', fx.workerEnv()).start();
    workers.push(worker);
    const tail = await fx.tail(['deadLetters']);
    const rnd = prng(SEED);
    // Signed by the fixture's trusted producer, as `publish` would send them.
    const goodMessages = fx.publisher.messages(good.map((e) => e as LivescopeEvent), Date.now());
    const bad = badMessages(fx, good as LivescopeEvent[], rnd);
    // Duplicates of good events (same bytes, right after the original): ignored, not dead-lettered.
    const duplicates = new Set<number>();
    for (let i = 0; i < goodMessages.length; i += 7) duplicates.add(i);
    const stream: { m: Message; bad?: Bad; duplicate?: boolean }[] = [];
    let b = 0;
    const perGood = Math.ceil(bad.length / goodMessages.length);
    goodMessages.forEach((m, i) => {
      for (let k = 0; k < perGood && b < bad.length; k++) stream.push({ m: bad[b]!.message, bad: bad[b++]! });
      stream.push({ m });
      if (duplicates.has(i)) stream.push({ m, duplicate: true });
    });
    while (b < bad.length) stream.push({ m: bad[b]!.message, bad: bad[b++]! });
    // In order, in modest requests (a near-megabyte message goes alone).
    let batch: Message[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length) await fx.producer.send({ topic: fx.topics.events, acks: -1, messages: batch });
      batch = [];
      bytes = 0;
    };
    for (const s of stream) {
      const size = (s.m.value as Buffer).length;
      if (bytes + size > 700_000) await flush();
      batch.push(s.m);
      bytes += size;
    }
    await flush();

    await untilEveryPartitionApplied(fx, [worker], 300_000);
    const dls = await waitFor('a dead letter for every bad message', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters);
      return d.length >= bad.length ? d : undefined;
    }, 120_000);

    const byReason = new Map<string, number>();
    for (const d of dls) byReason.set(d.value.reason, (byReason.get(d.value.reason) ?? 0) + 1);
    const byKind = new Map<string, number>();
    for (const x of bad) byKind.set(x.kind, (byKind.get(x.kind) ?? 0) + 1);
    process.stdout.write(
      `\nhostile input (seed ${SEED}): ${bad.length} bad messages of ${byKind.size} kinds, ${duplicates.size} duplicates, ${goodMessages.length} good messages on ${PARTITIONS} partitions\n` +
        [...byReason].sort((a, z) => z[1] - a[1]).map(([r, n]) => `  dead-lettered ${r.padEnd(22)} ${n}`).join('\n') +
        '\n',
    );

    // Counts equal: every bad message is dead-lettered once, with one of the reasons its kind allows.
    expect(dls).toHaveLength(bad.length);
    const byDigest = new Map<string, Bad[]>();
    for (const x of bad) {
      const digest = createHash('sha256').update(x.message.value as Buffer).digest('hex');
      byDigest.set(digest, [...(byDigest.get(digest) ?? []), x]);
    }
    const wrong: string[] = [];
    for (const d of dls) {
      const candidates = byDigest.get(d.value.valueSha256 ?? '') ?? [];
      if (!candidates.some((c) => c.expect.includes(d.value.reason))) wrong.push(`${d.value.reason} for ${candidates.map((c) => c.kind).join('/') || 'an unknown message'}: ${d.value.message.slice(0, 160)}`);
      // A dead letter always fits the broker limit, keeping at most 64 KiB of the original.
      expect(Buffer.byteLength(JSON.stringify(d.value))).toBeLessThan(1024 * 1024);
    }
    expect(wrong.slice(0, 10)).toEqual([]);

    // Every identity ends exactly as in the clean run, and nothing stopped.
    expect(await finalStates(fx)).toEqual(expected);
    expect(worker.crashed).toBeUndefined();
    expect(cleanWorker.crashed).toBeUndefined();
    // Every partition got traffic (the suite covers them all).
    const goodPartitions = new Set(good.filter((e): e is Extract<LivescopeEventInput, { subject: string }> => 'subject' in e).map((e) => partitionForKey(e.subject, PARTITIONS)));
    expect(goodPartitions.size).toBe(PARTITIONS);
  });
});
