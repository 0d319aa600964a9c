import { subjectSpecsFor, topicNames, valueSubject, type DriftAlert, type Heartbeat, type TopicNames } from '@livescope/contracts';
import { classify, retry, withDeadline, type ErrorClass } from '@livescope/errors';
import type { ScopeEngine } from '@livescope/scope-engine';
import type { Store } from '@livescope/store';
import { TransportError, type CommandSigner, type Logger, type ProducerKeyring, type SchemaRegistryClient } from '@livescope/transport';
import kafkajs, { type Admin, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { AuditHeadPublisher } from './AuditHeadPublisher.js';
import type { WorkerConfig } from './config.js';
import { LoadQueue } from './LoadQueue.js';
import { Mutex } from './Mutex.js';
import { OutputEncoder } from './OutputEncoder.js';
import { PartitionRunner, type PartitionContext, type PartitionFaults } from './PartitionRunner.js';
import { ReportRelay } from './ReportRelay.js';
import type { WorkerMetrics } from './WorkerMetrics.js';

// kafkajs is CommonJS: its enums are read off the module object.
const { ConfigResourceTypes } = kafkajs;

export interface WorkerDeps {
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly registry: SchemaRegistryClient;
  readonly store: Store;
  readonly metrics: WorkerMetrics;
  readonly signer: CommandSigner;
  /** Which producer keys may sign which input events. */
  readonly keyring: ProducerKeyring;
  readonly createEngine: () => ScopeEngine;
  /** Fault hooks of test entry points only (src/testing/). */
  readonly faults?: PartitionFaults;
}

/** Extra time the last start-up attempt gets past LIVESCOPE_STARTUP_TIMEOUT_MS before it counts as hung. */
const STARTUP_GRACE_MS = 30_000;

/** The worker's lifecycle; every transition is logged and exported as `livescope_worker_state`. */
export type WorkerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Progress of one partition as the heartbeats see it: stuck = input waiting and no advance for a while. */
interface Progress {
  position: bigint;
  since: number;
  stuckAlerted: boolean;
}

/**
 * The scope-worker process shell: a consumer-group member on the events topic that owns a set of
 * partitions, each a `PartitionRunner`. It wires Kafka, the registry and PostgreSQL around the
 * pure engine and owns the timers (scope expiry, heartbeats, audit heads), the report relay and the
 * lifecycle: `run()` resolves when the worker is stopped and rejects when it fails (a fatal error).
 *
 * What happens to a failure is decided by its classification (see @livescope/errors):
 * transient → retried in place by the partition (order kept); poison of a batch → the batch is
 * applied again message by message and the one that fails is dead-lettered alone; reassigned →
 * the partition is dropped (and reloaded if assigned again); fatal → the worker stops cleanly.
 * Nothing unclassified reaches kafkajs.
 */
export class ScopeWorker {
  readonly topics: TopicNames;
  private readonly runners = new Map<number, PartitionRunner>();
  private readonly loading = new Map<number, Promise<PartitionRunner>>();
  private readonly loadLock = new Mutex();
  /** Bulk loads of background partitions, one at a time; those a batch waits for go first. */
  private readonly loadQueue = new LoadQueue(1);
  /** Background loads started and not settled yet (shutdown waits for them: they end at their next page once stopping). */
  private readonly backgroundLoads = new Set<Promise<void>>();
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private encoder: OutputEncoder | undefined;
  private auditHeads: AuditHeadPublisher | undefined;
  private relay: ReportRelay | undefined;
  private alertSchemaId = 0;
  private timers: NodeJS.Timeout[] = [];
  private assigned = new Set<number>();
  private readonly progress = new Map<number, Progress>();
  private firstProcessedAt: number | undefined;
  private lifecycle: WorkerState = 'created';
  /** What start-up is doing (named in its log lines and in the error of a start-up that hangs). */
  private startStep = 'not started';
  private settle!: { resolve: () => void; reject: (e: unknown) => void };
  /** Settles when the worker has stopped (resolves) or failed (rejects). */
  readonly done: Promise<void>;
  readonly startedAt = Date.now();

  constructor(private readonly deps: WorkerDeps) {
    this.topics = topicNames(deps.config.topicPrefix);
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody may be awaiting yet: a failure is still reported through run() and the log.
    this.done.catch(() => undefined);
    deps.metrics.state.set({ state: 'created' }, 1);
  }

  get state(): WorkerState {
    return this.lifecycle;
  }

  private set state(next: WorkerState) {
    if (next === this.lifecycle) return;
    this.deps.logger.info({ from: this.lifecycle, to: next }, `scope worker ${next}`);
    this.deps.metrics.state.set({ state: this.lifecycle }, 0);
    this.deps.metrics.state.set({ state: next }, 1);
    this.lifecycle = next;
  }

  private get stopping(): boolean {
    return this.lifecycle === 'stopping' || this.lifecycle === 'stopped' || this.lifecycle === 'failed';
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

  /** Starts, then settles like `done`: resolves when stopped, rejects with the fatal error when the worker fails. */
  async run(): Promise<void> {
    await this.start();
    return this.done;
  }

  /** Connects everything, retrying while a dependency is unavailable (up to `startupTimeoutMs`). Resolves once running. */
  async start(): Promise<void> {
    if (this.lifecycle !== 'created') throw new Error(`scope worker cannot start from state ${this.lifecycle}`);
    const { config, logger } = this.deps;
    this.state = 'starting';
    try {
      const attempts = retry(() => this.startOnce(), {
        timeoutMs: config.startupTimeoutMs,
        baseMs: 250,
        shouldStop: () => this.stopping,
        onRetry: (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs, step: this.startStep }, 'starting the scope worker failed; retrying'),
      });
      // Retrying is bounded by startupTimeoutMs between attempts; a step that never answers (a
      // registry or broker that accepts the connection and stays silent) is bounded here, and the
      // error names the step it was stuck at. The last attempt gets a grace period of its own.
      await withDeadline(attempts, config.startupTimeoutMs + STARTUP_GRACE_MS, () => `scope worker start-up (stuck at: ${this.startStep})`);
    } catch (e) {
      await this.fail(e);
      throw e;
    }
    if (this.stopping) return;
    this.timers.push(setInterval(() => void this.tickAll(), config.timerResolutionMs));
    this.timers.push(setInterval(() => void this.sendHeartbeats(), config.heartbeatIntervalMs));
    this.auditHeads!.start(() => this.ownedPartitions, config.auditHeadIntervalMs);
    this.state = 'running';
    logger.info({ topic: this.topics.events, groupId: config.groupId, workerId: config.workerId, producerKeys: this.deps.keyring.keyIds }, 'scope worker started');
  }

  private async startOnce(): Promise<void> {
    const { config, kafka, registry } = this.deps;
    const schemaIds = new Map<string, number>();
    this.startStep = 'registering schemas and connecting to the broker';
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
    this.startStep = 'checking the events topic';
    await this.checkBrokerTime(admin);
    this.encoder = new OutputEncoder(this.topics, schemaIds, this.deps.signer);
    this.alertSchemaId = schemaIds.get(valueSubject(this.topics.driftAlerts))!;
    this.auditHeads = new AuditHeadPublisher({
      store: this.deps.store,
      producer: this.deps.producer,
      signer: this.deps.signer,
      topics: this.topics,
      schemaId: schemaIds.get(valueSubject(this.topics.auditHeads))!,
      workerId: config.workerId,
      maxSilenceMs: config.auditHeadMaxSilenceMs,
      logger: this.deps.logger,
    });
    this.relay = new ReportRelay({
      kafka,
      producer: this.deps.producer,
      registry,
      topics: this.topics,
      groupId: `${config.groupId}-report-relay`,
      eventsSchemaId: schemaIds.get(valueSubject(this.topics.events))!,
      deadLetterSchemaId: schemaIds.get(valueSubject(this.topics.deadLetters))!,
      maxMessageBytes: config.maxMessageBytes,
      workerId: config.workerId,
      metrics: this.deps.metrics,
      logger: this.deps.logger.child({ component: 'report-relay' }),
      isStopping: () => this.stopping,
      onFatal: (e) => void this.fail(e),
    });
    this.startStep = 'joining the consumer group';
    await this.runConsumer();
    this.startStep = 'starting the report relay';
    await this.relay.start();
    this.startStep = 'started';
  }

  /**
   * The processing instant of an event is its message timestamp, so the events topic must be
   * stamped by the broker (LogAppendTime): with CreateTime a producer would choose it (a telemetry
   * event dated three hours ahead would expire a quarantine). A topic not upgraded is fatal.
   */
  private async checkBrokerTime(admin: Admin): Promise<void> {
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: this.topics.events, configNames: ['message.timestamp.type'] }] });
    const value = res.resources[0]?.configEntries.find((c) => c.configName === 'message.timestamp.type')?.configValue;
    if (value !== 'LogAppendTime') {
      throw new TransportError(
        'TOPIC_METADATA',
        'fatal',
        `topic ${this.topics.events} has message.timestamp.type=${value ?? 'unknown'}: producers would choose the instant their events are processed at. Set it to LogAppendTime (bash infra/start.sh or infra/provision-topics.ts does; see docs/operations.md "Upgrading")`,
      );
    }
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
      const assignment = e.payload.memberAssignment[this.topics.events] ?? [];
      this.assigned = new Set(assignment);
      logger.info({ partitions: assignment }, 'partitions assigned');
      void this.dropUnassigned();
      // Load every assigned partition now, not on its first message: an idle partition must send
      // heartbeats too (enforcers fail closed on silence), and the load overlaps with processing.
      for (const p of assignment) {
        void this.runnerFor(p).catch((err: unknown) => logger.warn({ err, class: classify(err), partition: p }, 'partition not loaded yet; loaded with its next batch'));
      }
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const cls = classify(e.payload.error);
      logger.error({ err: e.payload.error, class: cls, restart: e.payload.restart }, 'consumer crashed');
      if (this.stopping || e.payload.restart) return;
      // kafkajs restarts the consumer itself after retriable errors; after the others we do (transient), or stop (fatal).
      if (cls === 'fatal') void this.fail(e.payload.error);
      else void this.restartConsumer();
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

  /** After a consumer crash kafkajs does not recover from: drop every partition (reloaded from PostgreSQL) and join again. */
  private async restartConsumer(): Promise<void> {
    for (const r of this.runners.values()) r.dropped = true;
    this.runners.clear();
    await this.consumer?.disconnect().catch((err: unknown) => this.deps.logger.warn({ err }, 'consumer disconnect after a crash'));
    try {
      await retry(() => this.runConsumer(), {
        baseMs: 500,
        maxMs: 10_000,
        isRetriable: (e) => classify(e) !== 'fatal',
        shouldStop: () => this.stopping,
        onRetry: (err, attempt, delayMs) => this.deps.logger.warn({ err, attempt, delayMs }, 'consumer restart failed; retrying'),
      });
      this.deps.logger.warn('consumer restarted after a crash');
    } catch (e) {
      if (!this.stopping) await this.fail(e);
    }
  }

  /** Stops cleanly: the batch in flight finishes its commit, final audit heads are published. Resolves `done`. */
  async stop(): Promise<void> {
    if (this.stopping) return this.done.catch(() => undefined);
    this.state = 'stopping';
    await this.shutdown();
    this.state = 'stopped';
    this.deps.logger.info('scope worker stopped');
    this.settle.resolve();
  }

  /** A fatal error: log it whole, shut down, reject `done` (the process exits non-zero). */
  private async fail(e: unknown): Promise<void> {
    if (this.stopping) return;
    this.deps.logger.fatal({ err: e, class: classify(e) }, 'scope worker failed; stopping');
    this.state = 'stopping';
    await this.shutdown();
    this.state = 'failed';
    this.settle.reject(e);
  }

  private async shutdown(): Promise<void> {
    const log = this.deps.logger;
    for (const t of this.timers) clearInterval(t);
    // Disconnecting waits for the batch in flight, which finishes its commit.
    await this.consumer?.disconnect().catch((err: unknown) => log.warn({ err }, 'consumer disconnect'));
    await this.relay?.stop();
    await Promise.all([...this.runners.values()].map((r) => r.lock.run(() => Promise.resolve())));
    await Promise.allSettled([...this.backgroundLoads]);
    await this.auditHeads?.stop();
    await this.deps.producer.disconnect().catch((err: unknown) => log.warn({ err }, 'producer disconnect'));
    await this.admin?.disconnect().catch((err: unknown) => log.warn({ err }, 'admin disconnect'));
  }

  private ctx(): PartitionContext {
    const { config, logger, store, producer, registry, metrics, createEngine, keyring, faults } = this.deps;
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
      keyring,
      createEngine,
      isShuttingDown: () => this.stopping,
      partitionLoad: config.partitionLoad,
      loadQueue: this.loadQueue,
      ...(faults ? { faults } : {}),
    };
  }

  private async runnerFor(partition: number): Promise<PartitionRunner> {
    const existing = this.runners.get(partition);
    if (existing) return existing;
    let pending = this.loading.get(partition);
    if (!pending) {
      pending = (async () => {
        const offsets = await this.admin!.fetchTopicOffsets(this.topics.events);
        const low = BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
        const eager = this.deps.config.partitionLoad === 'eager';
        // Eager: one partition loads at a time, so the first assigned partition is ready (and processing)
        // after its own share of the load rather than after all of them (a load is CPU-bound on this
        // thread). Background: every assigned partition processes after loading its record and due
        // timers; the bulk loads run one at a time behind them (a batch that needs a whole partition
        // moves its load ahead of the queued ones).
        const runner = eager ? await this.loadLock.run(() => PartitionRunner.load(this.ctx(), partition, low)) : await PartitionRunner.load(this.ctx(), partition, low);
        this.runners.set(partition, runner);
        this.deps.metrics.partitionsOwned.set(this.runners.size);
        if (!eager) this.loadInBackground(runner);
        return runner;
      })().finally(() => this.loading.delete(partition));
      this.loading.set(partition, pending);
    }
    return pending;
  }

  private loadInBackground(runner: PartitionRunner): void {
    const load = runner
      .loadInBackground()
      .catch((err: unknown) => {
        // Fatal (a state that does not decode) stops the worker, as a failed eager load does. Else the
        // partition keeps processing (batches load what they read), and a batch that needs the whole
        // partition meets the failure, drops the partition and reloads it.
        const cls = classify(err);
        if (cls === 'fatal') return void this.fail(err);
        this.deps.logger.warn({ err, class: cls, partition: runner.partition }, 'background load of the partition failed');
      })
      .finally(() => this.backgroundLoads.delete(load));
    this.backgroundLoads.add(load);
  }

  /** Forgets a partition's in-memory state; the next batch reloads it from PostgreSQL. */
  private drop(runner: PartitionRunner): void {
    runner.dropped = true;
    if (this.runners.get(runner.partition) === runner) this.runners.delete(runner.partition);
  }

  /**
   * One fetched batch of a partition. Never throws into kafkajs: every failure is handled by its
   * classification here (an unresolved offset makes kafkajs fetch the rest again).
   */
  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || this.stopping) return;
    try {
      const hw = BigInt(batch.highWatermark);
      let runner = await this.runnerFor(batch.partition);
      if (hw > runner.logEndOffset) runner.logEndOffset = hw;
      const first = BigInt(batch.firstOffset() ?? '0');
      if (first > runner.position) {
        // Kafka's committed offset is ahead of PostgreSQL (e.g. the database was restored): rewind.
        this.deps.logger.warn({ partition: batch.partition, from: first.toString(), to: runner.position.toString() }, 'rewinding to the offset PostgreSQL holds');
        this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: runner.position.toString() });
        return;
      }
      const max = this.deps.config.maxBatchMessages;
      for (let i = 0; i < batch.messages.length; i += max) {
        if (!payload.isRunning() || payload.isStale() || this.stopping) break;
        const chunk = batch.messages.slice(i, i + max);
        runner = await this.processChunk(runner, chunk);
        if (runner.dropped) return;
        this.firstProcessedAt ??= Date.now();
        payload.resolveOffset(chunk[chunk.length - 1]!.offset);
        await payload.heartbeat();
      }
      this.deps.metrics.consumerLag.set({ partition: String(batch.partition) }, Math.max(0, Number(hw - runner.position)));
      await payload.commitOffsetsIfNecessary();
    } catch (e) {
      // Loading the partition or committing offsets to Kafka failed: a transient cause is retried by
      // kafkajs refetching the batch (the partition reloads); anything else stops the worker.
      const cls = classify(e);
      if (cls === 'fatal') return void (await this.fail(e));
      this.deps.logger.warn({ err: e, class: cls, partition: batch.partition }, 'batch not processed; it is fetched again');
    }
  }

  /**
   * Applies a chunk, reacting to its failure by classification. Returns the runner to go on with
   * (a fresh one after a reload), or a dropped one when the partition is no longer ours.
   */
  private async processChunk(runner: PartitionRunner, chunk: readonly KafkaMessage[]): Promise<PartitionRunner> {
    const outcome = await this.attempt(runner, () => runner.process(chunk, Date.now()));
    if (outcome === 'ok' || outcome === 'gone') return runner;
    // Poison: some message of the chunk made outputs the broker refused, or values PostgreSQL
    // refused, after the engine had accepted it. Reload the state of record and apply the chunk
    // message by message; the one that fails again is dead-lettered alone.
    this.deps.logger.warn({ partition: runner.partition, messages: chunk.length, from: chunk[0]!.offset }, 'a batch was refused after it was applied; isolating the message that caused it');
    let current = await this.reload(runner);
    for (const m of chunk) {
      if (current.dropped || this.stopping) return current;
      const one = await this.attempt(current, () => current.process([m], Date.now()));
      if (one === 'gone') return current;
      if (one === 'ok') continue;
      current = await this.reload(current);
      const skipped = await this.attempt(current, () => current.skip(m, skipReason(one.cause), `applying the event succeeded but its effects could not be stored or produced: ${describe(one.cause)}`));
      if (skipped !== 'ok') {
        if (skipped !== 'gone') await this.fail(skipped.cause);
        return current;
      }
    }
    return current;
  }

  /** Runs a partition step and maps its failure: transient while dropped/stopping and reassigned → gone; fatal → the worker fails. */
  private async attempt(runner: PartitionRunner, step: () => Promise<void>): Promise<'ok' | 'gone' | { poison: true; cause: unknown }> {
    try {
      await runner.lock.run(async () => {
        if (runner.dropped) throw new PartitionGone();
        await step();
      });
      return 'ok';
    } catch (e) {
      if (e instanceof PartitionGone) return 'gone';
      const cls: ErrorClass = classify(e);
      this.deps.metrics.batchFailures.inc({ class: cls });
      // The engine may be ahead of PostgreSQL now: forget the partition; it is reloaded on demand.
      this.drop(runner);
      if (cls === 'poison') return { poison: true, cause: e };
      if (cls === 'fatal') await this.fail(e);
      else this.deps.logger.warn({ err: e, class: cls, partition: runner.partition }, cls === 'reassigned' ? 'partition moved to another worker; state dropped' : 'partition step interrupted; state dropped and reloaded on the next batch');
      return 'gone';
    }
  }

  private async reload(runner: PartitionRunner): Promise<PartitionRunner> {
    this.drop(runner);
    return this.runnerFor(runner.partition);
  }

  private async dropUnassigned(): Promise<void> {
    for (const [p, runner] of this.runners) {
      if (this.assigned.has(p)) continue;
      await runner.lock.run(() => {
        this.drop(runner);
        this.deps.metrics.identities.remove({ partition: String(p) });
        return Promise.resolve();
      });
      this.progress.delete(p);
      this.deps.metrics.partitionStuck.remove({ partition: String(p) });
      this.deps.logger.info({ partition: p }, 'partition revoked; state dropped');
    }
    this.deps.metrics.partitionsOwned.set(this.runners.size);
  }

  private async tickAll(): Promise<void> {
    const now = Date.now();
    for (const runner of this.runners.values()) {
      const due = runner.nextWakeAt();
      if (due === undefined || due > now || runner.dropped) continue;
      const outcome = await this.attempt(runner, () => runner.tick(Date.now()));
      if (typeof outcome === 'object') this.deps.logger.error({ err: outcome.cause, partition: runner.partition }, 'timer effects could not be stored; the partition reloads and fires them again');
    }
  }

  /**
   * Per owned partition: the next offset to apply and the log end offset (read from the broker, so
   * an idle partition and a stuck one are told apart). Enforcers fail closed for a partition that
   * does not advance while input waits; the worker exports it and raises `partition-stuck` once.
   */
  private async sendHeartbeats(): Promise<void> {
    if (this.runners.size === 0 || !this.encoder || this.stopping) return;
    let ends = new Map<number, bigint>();
    try {
      const offsets = await this.admin!.fetchTopicOffsets(this.topics.events);
      ends = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } catch (err) {
      this.deps.logger.warn({ err }, 'log end offsets unavailable; heartbeats carry the last seen');
    }
    const now = Date.now();
    const at = new Date(now).toISOString();
    const alerts: DriftAlert[] = [];
    const messages = [...this.runners.values()].map((r) => {
      const end = ends.get(r.partition);
      if (end !== undefined && end > r.logEndOffset) r.logEndOffset = end;
      const logEnd = r.logEndOffset < r.position ? r.position : r.logEndOffset;
      this.trackProgress(r.partition, r.position, logEnd, now, alerts);
      const hb: Heartbeat = { kind: 'heartbeat', workerId: this.deps.config.workerId, partition: r.partition, at, nextOffset: r.position.toString(), logEndOffset: logEnd.toString() };
      return this.encoder!.signed(this.topics.heartbeats, `p${r.partition}`, JSON.stringify(hb));
    });
    const send = [{ topic: this.topics.heartbeats, messages }, ...(alerts.length ? [{ topic: this.topics.driftAlerts, messages: alerts.map((a) => this.encoder!.alert(this.alertSchemaId, a)) }] : [])];
    await this.deps.producer.sendBatch({ topicMessages: send, acks: -1 }).catch((err: unknown) => this.deps.logger.warn({ err }, 'heartbeat not sent'));
  }

  private trackProgress(partition: number, position: bigint, logEnd: bigint, now: number, alerts: DriftAlert[]): void {
    const p = this.progress.get(partition);
    if (!p || position !== p.position || position >= logEnd) {
      if (p?.stuckAlerted) this.deps.logger.info({ partition }, 'partition advancing again');
      this.progress.set(partition, { position, since: now, stuckAlerted: false });
      this.deps.metrics.partitionStuck.set({ partition: String(partition) }, 0);
      return;
    }
    if (now - p.since < this.deps.config.partitionStuckMs || p.stuckAlerted) return;
    p.stuckAlerted = true;
    this.deps.metrics.partitionStuck.set({ partition: String(partition) }, 1);
    const summary = `partition ${partition} of ${this.topics.events} has not advanced from offset ${position} for ${now - p.since} ms while ${logEnd - position} message(s) wait; enforcement points fail closed for its identities`;
    this.deps.logger.error({ partition, position: position.toString(), logEndOffset: logEnd.toString() }, summary);
    alerts.push({
      kind: 'drift.alert',
      alertId: `${this.deps.config.workerId}/partition-stuck/${partition}/${position}`,
      type: 'partition-stuck',
      severity: 'critical',
      at: new Date(now).toISOString(),
      summary,
      details: { partition, nextOffset: position.toString(), logEndOffset: logEnd.toString(), workerId: this.deps.config.workerId, stuckForMs: now - p.since },
      cause: {},
    });
  }
}

/** The partition was dropped (revoked, fenced, or stopping) before the step could run. */
class PartitionGone extends Error {}

const SIZE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The broker error type of a kafkajs error or of what it wraps. */
function kafkaErrorType(e: unknown): string | undefined {
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const type = (x as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

/** A message whose outputs the broker refused for their size exceeded a limit; anything else could not be processed. */
function skipReason(e: unknown): 'limit-exceeded' | 'unprocessable' {
  const type = kafkaErrorType(e);
  return type !== undefined && SIZE_TYPES.has(type) ? 'limit-exceeded' : 'unprocessable';
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as Error & { code?: unknown }).code ?? kafkaErrorType(e);
  return `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`;
}
