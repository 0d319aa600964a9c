/**
 * The raw-consume baseline, run in its own process like the worker: kafkajs `eachBatch` over a
 * topic range with the worker's fetch settings, counting messages without decoding them.
 * Input: one JSON argument (RawConsumeSpec). Output: one JSON line (RawConsumeResult) on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createKafka, createLogger } from '@livescope/transport';

export interface FetchSettings {
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  readonly maxWaitTimeInMs: number;
  readonly partitionsConsumedConcurrently: number;
  readonly sessionTimeout: number;
}

/** The scope worker's consumer settings for a given LIVESCOPE_FETCH_MAX_BYTES (see ScopeWorker.runConsumer). */
export function workerFetchSettings(fetchMaxBytes: number, partitionsConsumedConcurrently: number, sessionTimeout = 30_000): FetchSettings {
  return { maxBytes: fetchMaxBytes, maxBytesPerPartition: Math.min(fetchMaxBytes, 4 * 1024 * 1024), maxWaitTimeInMs: 100, partitionsConsumedConcurrently, sessionTimeout };
}

export interface RawConsumeSpec {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly fetch: FetchSettings;
  /** First offset to count, per partition (as strings: JSON has no bigint). */
  readonly from: Record<string, string>;
  /** End offset (exclusive), per partition. */
  readonly to: Record<string, string>;
  readonly timeoutMs: number;
}

export interface RawConsumeResult {
  readonly count: number;
  readonly batches: number;
  /** From the group join (positions set) to the last message counted. */
  readonly joinToLastMs: number;
  /** From `run()` (group join included) to the last message. */
  readonly runToLastMs: number;
}

async function main(spec: RawConsumeSpec): Promise<void> {
  const logger = createLogger('bench-raw', 'error');
  const kafka = createKafka({ brokers: spec.brokers, clientId: 'bench-raw', logger });
  const consumer = kafka.consumer({
    groupId: `bench-raw-${process.pid}-${Date.now()}`,
    maxBytes: spec.fetch.maxBytes,
    maxBytesPerPartition: spec.fetch.maxBytesPerPartition,
    maxWaitTimeInMs: spec.fetch.maxWaitTimeInMs,
    sessionTimeout: spec.fetch.sessionTimeout,
    allowAutoTopicCreation: false,
  });
  const expected = Object.entries(spec.to).reduce((n, [p, end]) => n + Number(BigInt(end) - BigInt(spec.from[p] ?? '0')), 0);
  let count = 0;
  let batches = 0;
  let joinedAt = 0;
  let lastAt = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const [p, off] of Object.entries(spec.from)) consumer.seek({ topic: spec.topic, partition: Number(p), offset: off });
    joinedAt = performance.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
  const runAt = performance.now();
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1000,
    partitionsConsumedConcurrently: spec.fetch.partitionsConsumedConcurrently,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const from = BigInt(spec.from[String(batch.partition)] ?? '0');
      const to = BigInt(spec.to[String(batch.partition)] ?? '0');
      let n = 0;
      for (const m of batch.messages) {
        const o = BigInt(m.offset);
        if (o >= from && o < to) n++;
      }
      batches++;
      count += n;
      await payload.heartbeat();
      if (count >= expected) {
        lastAt = performance.now();
        done();
      }
    },
  });
  const timer = setTimeout(() => done(), spec.timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  const result: RawConsumeResult = { count, batches, joinToLastMs: lastAt - joinedAt, runToLastMs: lastAt - runAt };
  if (count < expected) throw new Error(`raw consumer saw ${count} of ${expected} messages within ${spec.timeoutMs} ms`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs the raw consumer in its own process (tsx) and returns its result. */
export function runRawConsumer(spec: RawConsumeSpec): Promise<RawConsumeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=livescope-source', fileURLToPath(import.meta.url), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`raw consumer failed (exit ${code}): ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as RawConsumeResult);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(JSON.parse(process.argv[2] ?? '{}') as RawConsumeSpec).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
