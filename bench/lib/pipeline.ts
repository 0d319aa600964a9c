/**
 * Shared plumbing of the benchmarks that run against the real broker, registry and PostgreSQL:
 * an isolated pipeline (topic prefix + PostgreSQL schema, from @livescope/testkit), bulk loading
 * of seeded events, and the committed position of a partition set as PostgreSQL holds it.
 */
import { execFileSync } from 'node:child_process';
import { LivescopeEvent, encodeWireJson, isBroadcastEvent, type LivescopeEventInput } from '@livescope/contracts';
import { withDeadline } from '@livescope/errors';
import type { Store } from '@livescope/store';
import { PipelineFixture } from '@livescope/testkit';
import { BROADCAST_KEY, ProducerSigner } from '@livescope/transport';
import { signedInProduction } from './producers.js';
import { progress } from './report.js';
import type { Admin, Message } from 'kafkajs';

export const repoRoot = new URL('../../', import.meta.url).pathname;

/** Messages per producer request when loading, and how the broker stores them: one record batch per partition per request. */
export const LOAD_BATCH = 5000;

export async function openPipeline(partitions: number): Promise<PipelineFixture> {
  return new PipelineFixture(partitions).open();
}

/** What every worker benchmark does first: note the Kafka version, build the worker, open an isolated pipeline and its store. */
export async function openWorkerBench(partitions: number): Promise<{ fx: PipelineFixture; store: Store }> {
  ensureKafkaVersionEnv();
  progress('building the worker (turbo; cached when current)');
  ensureBuilt();
  const fx = await openPipeline(partitions);
  return { fx, store: await fx.store() };
}

/** On a failure, the last lines a worker logged, on stderr. */
export function dumpWorkerLog(worker: { readonly name: string; readonly logs: readonly string[] } | undefined): void {
  if (worker) process.stderr.write(`worker ${worker.name} log (last lines):\n${worker.logs.slice(-30).join('\n')}\n`);
}

/**
 * Validates (zod, as any producer of the events topic should), encodes in the wire format and
 * sends `events` in requests of `LOAD_BATCH` messages with the idempotent acks=all producer.
 * The message timestamp of each event is `timestampOf(event)` (its event time by default), so
 * runs are reproducible and timers fire at the instants the data says. What trusted producers send
 * in production (`signedInProduction`) carries the fixture's producer signature (one per request,
 * over the Merkle root of its signed messages); observations go unsigned.
 */
export async function loadEvents(
  fx: PipelineFixture,
  events: Iterable<LivescopeEventInput>,
  options: { timestampOf?: (e: LivescopeEvent) => number; onProgress?: (sent: number) => void; validate?: boolean } = {},
): Promise<number> {
  const schemaId = fx.publisher.schemaId;
  const ts = options.timestampOf ?? ((e: LivescopeEvent) => Date.parse(e.time));
  const signer = ProducerSigner.fromConfig(fx.producerKeys.kid, fx.producerKeys.privateKey);
  let batch: Message[] = [];
  let toSign: Message[] = [];
  let sent = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    // One producer signature per request, over the Merkle root of its signed messages (as EventPublisher does).
    const headers = signer.batchHeaders(fx.topics.events, toSign as { key: string; value: Buffer }[]);
    toSign.forEach((m, i) => (m.headers = headers[i]!));
    await fx.producer.send({ topic: fx.topics.events, acks: -1, messages: batch });
    sent += batch.length;
    batch = [];
    toSign = [];
    options.onProgress?.(sent);
  };
  for (const input of events) {
    const e = options.validate === false ? (input as LivescopeEvent) : LivescopeEvent.parse(input);
    const value = encodeWireJson(schemaId, e);
    const timestamp = String(ts(e));
    const key = isBroadcastEvent(e) ? BROADCAST_KEY : e.subject;
    const copies: Message[] = isBroadcastEvent(e) ? Array.from({ length: fx.partitions }, (_, p) => ({ key, value, partition: p, timestamp })) : [{ key, value, timestamp }];
    batch.push(...copies);
    if (signedInProduction(e.type)) toSign.push(...copies);
    if (batch.length >= LOAD_BATCH) await flush();
  }
  await flush();
  return sent;
}

/** High watermark of every partition of a topic. */
export async function topicEnds(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}

export const sumOffsets = (m: ReadonlyMap<number, bigint>): number => Number([...m.values()].reduce((a, b) => a + b, 0n));

/** Next offset PostgreSQL holds per partition of the events topic (missing = never committed). */
export async function committedOffsets(store: Store, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await store.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM partition_state WHERE topic = $1', [topic], 'bench positions');
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/** Owner (worker id) of each partition in PostgreSQL: who committed it last. */
export async function partitionOwners(store: Store, topic: string): Promise<Map<number, string>> {
  const { rows } = await store.query<{ partition: number; owner: string | null }>('SELECT partition, owner FROM partition_state WHERE topic = $1 ORDER BY partition', [topic], 'bench owners');
  return new Map(rows.map((r) => [r.partition, r.owner ?? '']));
}

export function caughtUpTo(committed: ReadonlyMap<number, bigint>, ends: ReadonlyMap<number, bigint>): boolean {
  for (const [p, end] of ends) {
    if (end === 0n) continue;
    if ((committed.get(p) ?? -1n) < end) return false;
  }
  return true;
}

/**
 * Polls PostgreSQL until every partition's committed offset reaches `ends` (bounded by
 * `timeoutMs`), calling `onSample` with the committed total at each poll. Returns the instant
 * (performance.now()) it was first seen caught up.
 */
export async function waitCommitted(
  store: Store,
  topic: string,
  ends: ReadonlyMap<number, bigint>,
  options: { timeoutMs: number; pollMs?: number; onSample?: (committed: number, atMs: number) => void; isAlive?: () => string | undefined },
): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const committed = await committedOffsets(store, topic);
    const at = performance.now();
    options.onSample?.(sumOffsets(committed), at);
    if (caughtUpTo(committed, ends)) return at;
    const dead = options.isAlive?.();
    if (dead) throw new Error(`worker died while waiting for commits: ${dead}`);
    if (at > deadline) throw new Error(`PostgreSQL did not reach the end of ${topic} within ${options.timeoutMs} ms (committed ${sumOffsets(committed)} of ${sumOffsets(ends)})`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 20));
  }
}

let built = false;
/**
 * Workers run as real processes from the built `dist/` (as in production and the end-to-end
 * tests). turbo rebuilds only what changed, so this is seconds when the build is current.
 */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@livescope/scope-worker...', '--output-logs=errors-only'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** Kafka version of the running broker, for the report (the infra scripts know it). */
export function ensureKafkaVersionEnv(): void {
  if (process.env.LIVESCOPE_KAFKA_VERSION) return;
  try {
    const out = execFileSync('bash', [`${repoRoot}infra/ctl.sh`, 'env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /LIVESCOPE_KAFKA_VERSION=([^\s]+)/.exec(out);
    if (m?.[1]) process.env.LIVESCOPE_KAFKA_VERSION = m[1].replace(/['"]/g, '');
  } catch {
    // n/a in the report
  }
}

export const fmtRate = (perSecond: number): string => `${Math.round(perSecond).toLocaleString('en-US')}/s`;

/**
 * Every message of `topic` in [from, to) per partition, read by a throwaway consumer group (the
 * group is deleted after). Bounded by `timeoutMs`; the error says which partitions fell short.
 */
export async function readRange(fx: PipelineFixture, topic: string, from: ReadonlyMap<number, bigint>, to: ReadonlyMap<number, bigint>, timeoutMs = 300_000): Promise<{ partition: number; offset: bigint; key: Buffer | null; value: Buffer | null }[]> {
  const wanted = new Map([...to].filter(([p, end]) => end > (from.get(p) ?? 0n)));
  const out: { partition: number; offset: bigint; key: Buffer | null; value: Buffer | null }[] = [];
  if (wanted.size === 0) return out;
  const groupId = `${fx.groupId}-range-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = fx.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const reached = new Map<number, bigint>();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.connect();
  try {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [p, off] of from) if (wanted.has(p)) consumer.seek({ topic, partition: p, offset: off.toString() });
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        const end = wanted.get(batch.partition);
        if (end === undefined) return Promise.resolve();
        const start = from.get(batch.partition) ?? 0n;
        for (const m of batch.messages) {
          const o = BigInt(m.offset);
          if (o >= start && o < end && o >= (reached.get(batch.partition) ?? start)) {
            out.push({ partition: batch.partition, offset: o, key: m.key, value: m.value });
            reached.set(batch.partition, o + 1n);
          }
        }
        if ([...wanted].every(([p, e]) => (reached.get(p) ?? 0n) >= e)) done();
        return Promise.resolve();
      },
    });
    await withDeadline(finished, timeoutMs, () => `reading ${topic} (${[...wanted].map(([p, e]) => `p${p} at ${reached.get(p) ?? from.get(p) ?? 0n} of ${e}`).join(', ')})`);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await fx.admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return out;
}
