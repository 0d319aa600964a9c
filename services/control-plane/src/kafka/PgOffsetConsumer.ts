import { classify, retry } from '@livescope/errors';
import type { Logger } from '@livescope/transport';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import type { ConsumerOffsets } from '../persistence/ConsumerOffsets.js';
import type { Database, PgClient } from '../persistence/Database.js';

/**
 * Applies a batch inside the consumer's PostgreSQL transaction and returns what to do once it is
 * committed (in-memory effects that must not happen twice when the transaction is retried).
 */
export type BatchHandler = (client: PgClient, batch: { readonly topic: string; readonly partition: number; readonly messages: readonly KafkaMessage[] }) => Promise<(() => void) | undefined>;

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * A consumer-group member whose effects and offsets are written to PostgreSQL in one transaction,
 * fenced on the offset it expects (the workers' commit protocol, on a smaller scale): a message is
 * applied exactly once to the tables however often Kafka redelivers it, and two instances that
 * briefly share a partition during a rebalance cannot both apply it. Failures are retried in place
 * with capped backoff until the consumer stops, so order is kept and nothing is skipped.
 */
export class PgOffsetConsumer {
  private consumer: Consumer | undefined;
  private readonly positions = new Map<string, bigint>();
  private stopping = false;
  private crashed: string | undefined;

  constructor(
    private readonly deps: {
      readonly kafka: Kafka;
      readonly db: Database;
      readonly offsets: ConsumerOffsets;
      /** Name of this consumer in cp_offsets (the consumer group id). */
      readonly name: string;
      readonly topics: readonly string[];
      readonly handler: BatchHandler;
      readonly logger: Logger;
      readonly metrics: ControlPlaneMetrics;
    },
  ) {}

  get health(): string {
    return this.crashed ?? (this.consumer ? 'ok' : 'not started');
  }

  async start(): Promise<void> {
    const consumer = this.deps.kafka.consumer({ groupId: this.deps.name, maxWaitTimeInMs: 100, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashed = undefined;
      this.positions.clear();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer itself unless the error is not retriable.
      this.crashed = `${e.payload.restart ? 'restarting after' : 'stopped by'}: ${e.payload.error.message}`;
      this.deps.logger.error({ consumer: this.deps.name, err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.deps.topics], fromBeginning: true });
    await consumer.run({ autoCommit: true, autoCommitInterval: 1000, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 2, eachBatch: (p) => this.eachBatch(p) });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    this.crashed = undefined;
    const { topic, partition } = batch;
    const k = `${topic}#${partition}`;
    let pos = this.positions.get(k);
    if (pos === undefined) {
      pos = await this.retry('load offset', () => this.deps.offsets.loadOffset(this.deps.name, topic, partition));
      if (pos === undefined) return;
      this.positions.set(k, pos);
    }
    const first = BigInt(batch.messages[0]!.offset);
    if (pos >= 0n && first !== pos) {
      // Kafka's position differs from what PostgreSQL holds (restored database, lost commit, or a
      // partition another instance moved on): PostgreSQL is the truth.
      if (first > pos || BigInt(batch.messages[batch.messages.length - 1]!.offset) < pos) {
        this.consumer!.seek({ topic, partition, offset: pos.toString() });
        return;
      }
    }
    const fresh = pos >= 0n ? batch.messages.filter((m) => BigInt(m.offset) >= pos) : batch.messages;
    const next = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
    const expected = pos;
    const outcome = await this.retry('apply batch', async () => {
      try {
        const after = await this.deps.db.transaction(`${this.deps.name} batch`, async (client) => {
          const done = await this.deps.handler(client, { topic, partition, messages: fresh });
          if (!(await this.deps.offsets.advanceOffset(client, this.deps.name, topic, partition, expected, next))) throw new FencedError();
          return done;
        });
        return { fenced: false as const, after };
      } catch (e) {
        if (e instanceof FencedError) return { fenced: true as const };
        throw e;
      }
    });
    if (outcome === undefined) return;
    if (outcome.fenced) {
      this.positions.delete(k);
      this.deps.logger.warn({ topic, partition }, 'another control-plane instance moved this partition on; reloading its offset');
      return;
    }
    outcome.after?.();
    this.positions.set(k, next);
    payload.resolveOffset(fresh[fresh.length - 1]!.offset);
    if (payload.isRunning() && !payload.isStale()) await payload.heartbeat();
  }

  /**
   * Retries `step` (the shared jittered backoff) until it succeeds, or the consumer stops
   * (undefined). A transient failure is expected to pass; any other is logged as an error with its
   * class and retried all the same, slowly: the batch must not be skipped (its offset is the fence),
   * and an operator sees why it is stuck.
   */
  private async retry<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await retry(step, {
        baseMs: RETRY_BASE_MS,
        maxMs: RETRY_MAX_MS,
        isRetriable: () => true,
        shouldStop: () => this.stopping,
        onRetry: (err, attempt, delayMs) => {
          const cls = classify(err);
          this.deps.metrics.transientErrors.inc({ component: 'postgres' });
          const fields = { consumer: this.deps.name, what, attempt, delayMs, err, class: cls };
          if (cls === 'transient') this.deps.logger.warn(fields, 'retrying');
          else this.deps.logger.error(fields, 'failing and retrying; this consumer is stuck until the cause is fixed');
        },
      });
    } catch (e) {
      if (this.stopping) return undefined;
      throw e;
    }
  }
}

class FencedError extends Error {
  constructor() {
    super('fenced');
  }
}
