/**
 * Kafka readiness probe: the broker is ready when a client can do what livescope does, not when
 * its port answers. One attempt creates a scratch topic, produces with an idempotent producer,
 * consumes the record in a consumer group and commits its offset; with `--transactions` it also
 * produces in a transaction with `sendOffsets` and checks the group offset it committed.
 * Attempts repeat until the deadline while the coordinators load after a start ("The coordinator
 * is loading", "group coordinator is not available" are normal for a few seconds).
 *
 *   npx tsx --conditions=livescope-source infra/kafka-ready.ts [--brokers 127.0.0.1:9092]
 *       [--timeout-ms 90000] [--transactions] [--quiet]
 *
 * TLS and SASL come from the LIVESCOPE_KAFKA_* variables (see kafkaFromEnv.ts).
 *
 * Exit code 0 when ready, 1 when the deadline passed (the last error is printed).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { KafkaSecurityOptions } from '@livescope/transport';
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs';
import { kafkaFromEnv, securityConfig } from './kafkaFromEnv.js';

/** Scratch topic and groups of the probe; reused across runs (one partition, one day retention). */
export const READY_TOPIC = 'livescope.infra.ready';
export const READY_GROUP = 'livescope-infra-ready';
export const READY_TXN_GROUP = 'livescope-infra-ready-txn';

export interface ReadyOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL. Default: plaintext, anonymous. */
  readonly security?: KafkaSecurityOptions;
  /** Overall deadline in milliseconds. */
  readonly timeoutMs: number;
  /** Also check transactions with sendOffsets. Default false. */
  readonly transactions?: boolean;
  /** Progress lines (retries, the result). */
  readonly log?: (line: string) => void;
}

export interface ReadyResult {
  readonly attempts: number;
  readonly elapsedMs: number;
  /** What was verified, for reports ("idempotent produce", "consumer group commit", ...). */
  readonly checks: readonly string[];
}

export async function waitForKafkaReady(options: ReadyOptions): Promise<ReadyResult> {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const deadline = t0 + options.timeoutMs;
  let attempts = 0;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    attempts += 1;
    try {
      const checks = await beforeDeadline(probeOnce(options.brokers, options.security, deadline, options.transactions ?? false), deadline);
      return { attempts, elapsedMs: Date.now() - t0, checks };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      log(`  Kafka not ready yet (attempt ${attempts}, ${((Date.now() - t0) / 1000).toFixed(1)} s): ${lastError}`);
      const left = deadline - Date.now();
      if (left > 0) await sleep(Math.min(1000, left));
    }
  }
  throw new Error(`Kafka at ${options.brokers.join(',')} not ready after ${options.timeoutMs} ms and ${attempts} attempts; last error: ${lastError}`);
}

/** An attempt may not outlive the overall deadline (kafkajs retries inside it have their own clock). */
async function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('attempt still running at the deadline')), Math.max(deadline - Date.now(), 1));
  });
  work.catch(() => undefined); // an attempt abandoned at the deadline may still fail later
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeOnce(brokers: readonly string[], security: KafkaSecurityOptions | undefined, deadline: number, transactions: boolean): Promise<string[]> {
  const kafka = new Kafka({
    clientId: 'livescope-infra-ready',
    brokers: [...brokers],
    ...securityConfig(security),
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { initialRetryTime: 200, retries: 4, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  });
  const checks: string[] = [];
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const txProducer = transactions
    ? kafka.producer({ transactionalId: 'livescope-infra-ready-tx', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner })
    : undefined;
  // A fresh group per attempt would leave garbage; one fixed group is reused, its offsets committed.
  const consumer = kafka.consumer({
    groupId: READY_GROUP,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    allowAutoTopicCreation: false,
    // A crash ends this attempt (the next one starts clean) instead of restarting inside it.
    retry: { initialRetryTime: 200, retries: 4, restartOnFailure: () => Promise.resolve(false) },
  });
  try {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: READY_TOPIC, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: String(24 * 3600 * 1000) }] }],
    });
    checks.push('create topic');

    const token = randomUUID();
    await producer.connect();
    const sent = await producer.send({ topic: READY_TOPIC, acks: -1, messages: [{ key: 'probe', value: token }] });
    // An offset no earlier run committed: the transactional check below must see this run's commit.
    const txOffset = (BigInt(sent[0]?.baseOffset ?? '0') + 1n).toString();
    checks.push('idempotent produce (acks=all)');

    let txToken: string | undefined;
    if (txProducer) {
      txToken = `tx-${randomUUID()}`;
      await txProducer.connect();
      const tx = await txProducer.transaction();
      try {
        await tx.send({ topic: READY_TOPIC, messages: [{ key: 'probe-tx', value: txToken }] });
        await tx.sendOffsets({ consumerGroupId: READY_TXN_GROUP, topics: [{ topic: READY_TOPIC, partitions: [{ partition: 0, offset: txOffset }] }] });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      // The group coordinator applies a committed transaction's offsets when it writes the commit
      // marker, a moment after commit() returns: poll briefly.
      let offset: string | undefined;
      for (let i = 0; i < 50 && offset !== txOffset; i++) {
        if (i > 0) await sleep(100);
        const committed = await admin.fetchOffsets({ groupId: READY_TXN_GROUP, topics: [READY_TOPIC] });
        offset = committed[0]?.partitions.find((p) => p.partition === 0)?.offset;
      }
      if (offset !== txOffset) throw new Error(`transactional sendOffsets: group ${READY_TXN_GROUP} has offset ${offset ?? 'none'}, expected ${txOffset}`);
      checks.push('transaction with sendOffsets + commit');
    }

    await consumeUntil(consumer, new Set([token, ...(txToken ? [txToken] : [])]), deadline);
    checks.push('consumer group join, consume (read_committed) and commit');
    return checks;
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), txProducer?.disconnect(), admin.disconnect()]);
  }
}

/** Consumes READY_TOPIC in READY_GROUP until every token was seen, committing as it goes. */
async function consumeUntil(consumer: Consumer, tokens: Set<string>, deadline: number): Promise<void> {
  const pending = new Set(tokens);
  await consumer.connect();
  await consumer.subscribe({ topic: READY_TOPIC, fromBeginning: true });
  let settle!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  const left = deadline - Date.now();
  const timer = setTimeout(() => settle(new Error(`consumed ${tokens.size - pending.size} of ${tokens.size} probe records before the deadline`)), Math.max(left, 1));
  // kafkajs reports a crash (e.g. a non-retriable join error) through an event, not run().
  consumer.on(consumer.events.CRASH, (e) => settle(e.payload.error));
  try {
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        const value = message.value?.toString() ?? '';
        if (pending.delete(value) && pending.size === 0) settle();
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      'timeout-ms': { type: 'string', default: '90000' },
      transactions: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  const { brokers, security } = kafkaFromEnv(process.env, values.brokers);
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout-ms '${values['timeout-ms']}' is not a positive integer`);
  const log = values.quiet ? () => undefined : (l: string) => process.stdout.write(`${l}\n`);
  const result = await waitForKafkaReady({ brokers, security, timeoutMs, transactions: values.transactions, log });
  log(`  Kafka usable: ${result.checks.join(', ')} (attempt ${result.attempts}, ${result.elapsedMs} ms)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`livescope infra: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
