import { subjectSpecsFor, topicNames, valueSubject, type Heartbeat, type TopicNames } from '@livescope/contracts';
import type { ScopeEngine } from '@livescope/scope-engine';
import type { Store } from '@livescope/store';
import type { CommandSigner, Logger, SchemaRegistryClient, SignerPool } from '@livescope/transport';
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { WorkerConfig } from './config.js';
import { Mutex } from './Mutex.js';
import { OutputEncoder } from './OutputEncoder.js';
import { PartitionRunner, type PartitionContext } from './PartitionRunner.js';
import { retryStartup } from './retry.js';
import type { WorkerMetrics } from './WorkerMetrics.js';

export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly registry: SchemaRegistryClient;
  readonly store: Store;
  readonly metrics: WorkerMetrics;
  readonly signer: CommandSigner;
  /** Signs batches of commands on threads; optional (inline signing without it). */
  readonly signerPool?: SignerPool;
  readonly createEngine: () => ScopeEngine;
}

/**
 * The scope-worker process shell: a consumer-group member on the events topic that owns a set of
 * partitions, each a `PartitionRunner`. It wires Kafka, the registry and PostgreSQL around the
 * pure engine and owns the timers (scope expiry, heartbeats) and the process lifecycle.
 */
export class ScopeWorker {
  readonly topics: TopicNames;
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly loading = new Map<number, Promise<PartitionRunner | undefined>>();
  private readonly loadLock = new Mutex();
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private encoder: OutputEncoder | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private assigned = new Set<number>();
  private firstProcessedAt: number | undefined;
  readonly startedAt = Date.now();

  constructor(private readonly deps: WorkerDeps) {
    this.topics = topicNames(deps.config.topicPrefix);
  }

  get ownedPartitions(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b);
  }

  /** Milliseconds from process start to the first event processed (restart benchmark). */
  get timeToFirstEventMs(): number | undefined {
    return this.firstProcessedAt === undefined ? undefined : this.firstProcessedAt - this.startedAt;
  }

  runner(partition: number): PartitionRunner | undefined {
    return this.runners.get(partition);
  }

  /** Connects everything, retrying while a dependency is unavailable (up to `startupTimeoutMs`). */
  async start(): Promise<void> {
    const { config, logger } = this.deps;
    await retryStartup('starting the scope worker', () => this.startOnce(), {
      timeoutMs: config.startupTimeoutMs,
      log: (msg, attempt, err) => logger.warn({ attempt, err }, msg),
      shouldStop: () => this.stopping,
    });
    this.timers.push(setInterval(() => void this.tickAll(), config.timerResolutionMs));
    this.timers.push(setInterval(() => void this.sendHeartbeats(), config.heartbeatIntervalMs));
    logger.info({ topic: this.topics.events, groupId: config.groupId, workerId: config.workerId }, 'scope worker started');
  }

  private async startOnce(): Promise<void> {
    const { config, kafka, registry } = this.deps;
    const schemaIds = new Map<string, number>();
    this.admin ??= kafka.admin();
    const admin = this.admin;
    // The registry and the broker connections are independent: set them up at once (start-up time
    // is restart time, see docs/performance.md).
    await Promise.all([
      (async () => {
        for (const [subject, reg] of await registry.registerAll(subjectSpecsFor(config.topicPrefix))) schemaIds.set(subject, reg.id);
        await registry.loadSubjectIds(valueSubject(this.topics.events));
      })(),
      admin.connect(),
      this.deps.producer.connect(),
    ]);
    this.encoder = new OutputEncoder(this.topics, schemaIds, this.deps.signer, this.deps.signerPool);
    await this.runConsumer();
  }

  private async runConsumer(): Promise<void> {
    const { config, logger, kafka } = this.deps;
    const consumer = kafka.consumer({
      groupId: config.groupId,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: Math.min(config.fetchMaxBytes, 4 * 1024 * 1024),
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: Math.max(config.sessionTimeoutMs, 10_000),
      heartbeatInterval: Math.min(3000, Math.floor(config.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = (e.payload.memberAssignment[this.topics.events] ?? []);
      this.assigned = new Set(assignment);
      logger.info({ partitions: assignment, generation: e.payload.groupId }, 'partitions assigned');
      void this.dropUnassigned();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      logger.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts the consumer itself after retriable errors; after the others we do, with fresh state.
      if (!e.payload.restart && !this.stopping) void this.restartConsumer();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topics.events, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** After a non-retriable consumer crash: drop every partition (reloaded from PostgreSQL) and join again. */
  private async restartConsumer(): Promise<void> {
    const { logger } = this.deps;
    for (const r of this.runners.values()) r.dropped = true;
    this.runners.clear();
    await this.consumer?.disconnect().catch(() => undefined);
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.runConsumer();
        logger.warn({ attempt }, 'consumer restarted after a crash');
        return;
      } catch (e) {
        const delay = Math.min(10_000, 500 * attempt);
        logger.warn({ attempt, delayMs: delay, err: (e as Error).message }, 'consumer restart failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    // Disconnecting waits for the batch in flight, which finishes its commit.
    await this.consumer?.disconnect().catch((e: Error) => this.deps.logger.warn({ err: e.message }, 'consumer disconnect'));
    await Promise.all([...this.runners.values()].map((r) => r.lock.run(() => Promise.resolve())));
    await this.deps.producer.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.deps.signerPool?.close();
    this.deps.logger.info('scope worker stopped');
  }

  private ctx(): PartitionContext {
    const { config, logger, store, producer, registry, metrics, createEngine } = this.deps;
    return {
      topic: this.topics.events,
      eventsSubject: valueSubject(this.topics.events),
      workerId: config.workerId,
      maxMessageBytes: config.maxMessageBytes,
      store,
      producer,
      registry,
      encoder: this.encoder!,
      metrics,
      logger,
      createEngine,
      isShuttingDown: () => this.stopping,
    };
  }

  private async runnerFor(partition: number): Promise<PartitionRunner | undefined> {
    const existing = this.runners.get(partition);
    if (existing) return existing;
    let pending = this.loading.get(partition);
    if (!pending) {
      pending = (async () => {
        const offsets = await this.admin!.fetchTopicOffsets(this.topics.events);
        const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
        // One partition loads at a time: the first assigned partition is ready (and processing) after
        // its own share of the load rather than after all of them (a load is CPU-bound on this thread).
        const runner = await this.loadLock.run(() => PartitionRunner.load(this.ctx(), partition, low));
        this.runners.set(partition, runner);
        this.deps.metrics.partitionsOwned.set(this.runners.size);
        return runner;
      })().finally(() => this.loading.delete(partition));
      this.loading.set(partition, pending);
    }
    return pending;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const runner = await this.runnerFor(batch.partition);
    if (!runner || runner.dropped) return;
    await runner.lock.run(async () => {
      if (runner.dropped) return;
      const first = BigInt(batch.firstOffset() ?? '0');
      if (first > runner.position) {
        // Kafka's committed offset is ahead of PostgreSQL (e.g. the database was restored): rewind.
        this.deps.logger.warn({ partition: batch.partition, from: first.toString(), to: runner.position.toString() }, 'rewinding to the offset PostgreSQL holds');
        this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: runner.position.toString() });
        return;
      }
      const max = this.deps.config.maxBatchMessages;
      for (let i = 0; i < batch.messages.length; i += max) {
        if (!payload.isRunning() || payload.isStale() || runner.dropped) break;
        const chunk = batch.messages.slice(i, i + max);
        try {
          await runner.process(chunk, Date.now());
        } catch (e) {
          // The engine may be ahead of PostgreSQL now: forget the partition; the retried batch reloads it.
          runner.dropped = true;
          this.runners.delete(batch.partition);
          this.deps.logger.error({ partition: batch.partition, err: (e as Error).message }, 'batch failed; partition state dropped and reloaded on retry');
          throw e;
        }
        this.firstProcessedAt ??= Date.now();
        payload.resolveOffset(chunk[chunk.length - 1]!.offset);
        await payload.heartbeat();
      }
      this.deps.metrics.consumerLag.set({ partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - runner.position)));
    });
    await payload.commitOffsetsIfNecessary();
  }

  private async dropUnassigned(): Promise<void> {
    for (const [p, runner] of this.runners) {
      if (this.assigned.has(p)) continue;
      await runner.lock.run(() => {
        runner.dropped = true;
        this.runners.delete(p);
        this.deps.metrics.identities.remove({ partition: String(p) });
        return Promise.resolve();
      });
      this.deps.logger.info({ partition: p }, 'partition revoked; state dropped');
    }
    this.deps.metrics.partitionsOwned.set(this.runners.size);
  }

  private async tickAll(): Promise<void> {
    const now = Date.now();
    for (const runner of this.runners.values()) {
      const due = runner.engine.nextWakeAt();
      if (due === undefined || due > now || runner.dropped) continue;
      await runner.lock
        .run(async () => {
          if (!runner.dropped) await runner.tick(Date.now());
        })
        .catch((e: Error) => this.deps.logger.error({ partition: runner.partition, err: e.message }, 'timer tick failed'));
    }
  }

  private async sendHeartbeats(): Promise<void> {
    if (this.runners.size === 0 || !this.encoder) return;
    const at = new Date().toISOString();
    const messages = [...this.runners.values()].map((r) => {
      const hb: Heartbeat = { kind: 'heartbeat', workerId: this.deps.config.workerId, partition: r.partition, at, nextOffset: r.position.toString() };
      return this.encoder!.signed(this.topics.heartbeats, `p${r.partition}`, JSON.stringify(hb));
    });
    await this.deps.producer.send({ topic: this.topics.heartbeats, acks: -1, messages }).catch((e: Error) => this.deps.logger.warn({ err: e.message }, 'heartbeat not sent'));
  }
}
