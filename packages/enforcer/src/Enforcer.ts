import {
  encodeWireJson,
  topicNames,
  valueSubject,
  type DriftAlert,
  type Revocation,
  type TopicNames,
} from '@livescope/contracts';
import { classify, retry, withDeadline } from '@livescope/errors';
import {
  CommandSigner,
  createKafka,
  createLogger,
  createProducer,
  EventPublisher,
  partitionForKey,
  SchemaRegistryClient,
  TRACEPARENT_HEADER,
  type KafkaSaslOptions,
  type KafkaSslOptions,
  type Logger,
  type RegistryClientOptions,
  type SigningKey,
  type VerifyingKey,
} from '@livescope/transport';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { AckBuffer } from './AckBuffer.js';
import { BatchSpans } from './BatchSpans.js';
import { ACK_ENTRIES_PER_MESSAGE, Acknowledger } from './Acknowledger.js';
import { CommandProcessor, type Outcome, type PartitionStart } from './CommandProcessor.js';
import { DecisionAggregator } from './DecisionAggregator.js';
import { decisionReports } from './decisionReports.js';
import { EnforcerError } from './EnforcerError.js';
import { EnforcerMetrics } from './EnforcerMetrics.js';
import { EnforcerState, type AuthorizeOptions, type Decision } from './EnforcerState.js';
import { loadHighWater, saveHighWater } from './HighWaterFile.js';

export interface EnforcerOptions {
  readonly brokers: readonly string[];
  /** TLS to the brokers: CA file, optional client certificate and key, server name. Default: plaintext. */
  readonly ssl?: KafkaSslOptions;
  /** SASL, e.g. `{ mechanism: 'scram-sha-512', username: 'enforcer', password }`. Default: none. */
  readonly sasl?: KafkaSaslOptions;
  readonly registryUrl: string;
  /** Registry basic-auth credentials and CA file. Default: none. */
  readonly registryAuth?: RegistryClientOptions;
  /**
   * This enforcement point's name, in acknowledgements, reports and alerts, and in its consumer
   * group `livescope-enforcer-<enforcerId>`. It must be unique per running instance: two instances
   * with one id share the group and each sees only part of the commands (detected: sensitive
   * actions then fail closed, see `GROUP_SHARED`). Reuse it across restarts of one instance.
   */
  readonly enforcerId: string;
  /** Public keys trusted for command signatures (several during a key rotation). */
  readonly trustedKeys: readonly VerifyingKey[];
  /** Where the SDK logs (a pino logger). Default: JSON lines on stdout at level info (`createLogger('livescope-enforcer')`). */
  readonly logger?: Logger;
  readonly topicPrefix?: string;
  /** Actions that fail closed when the pipeline has been silent for `maxStalenessMs`. Default: none. */
  readonly sensitiveActions?: readonly string[] | ((action: string) => boolean);
  /** Staleness bound in ms for sensitive actions: silence, or a partition not advancing while input waits. Default 30 000. */
  readonly maxStalenessMs?: number;
  /** Require a live session on every decision. Default true. */
  readonly requireSession?: boolean;
  /** Report aggregated decisions to the pipeline (drift detection). Default true. */
  readonly reportDecisions?: boolean;
  /** How often decisions and acknowledgements are flushed, in ms. Default 1000. */
  readonly flushIntervalMs?: number;
  /** Most distinct (identity, action, resource, session) keys per report window. Default 10 000. */
  readonly maxReportKeys?: number;
  /** Called for every applied revocation: a gateway kills connections, a vault plugin revokes leases. */
  readonly onRevocation?: (r: Revocation) => void;
  /** Send acknowledgements of applied commands (revocation lag). Default true; probes may turn it off. */
  readonly acknowledge?: boolean;
  /** Called for every rejected (unsigned, forged, mis-keyed, rolled-back) command. */
  readonly onRejected?: (reason: string, topic: string, offset: string) => void;
  readonly kafka?: Kafka;
  /** Registers the enforcer's Prometheus metrics in this registry (prom-client). */
  readonly metricsRegistry?: Registry;
  /** Commands signed at a lower key epoch are rejected (raise it once a rotated-out key must no longer count). Default 0. */
  readonly minKeyEpoch?: number;
  /**
   * Path of the durable high-water file: the highest scope version applied per identity, written
   * atomically every `highWaterIntervalMs` (when something changed) and on stop, loaded at start.
   * After a restart, an identity whose recorded version is above what the topics offer is denied
   * every action (`stale`) until a command at or above it arrives; nothing older is applied. A file
   * that cannot be read fails the start (`HIGH_WATER_FILE_INVALID`). Default: none.
   */
  readonly highWaterFile?: string;
  /** How often the high-water file is written when versions changed, ms. Default 5000. */
  readonly highWaterIntervalMs?: number;
  /**
   * Signs acknowledgements with this enforcement point's own Ed25519 key (headers `livescope-kid`,
   * `livescope-epoch`, `livescope-sig` over the acks topic, key = enforcerId, and the value), so the
   * control plane can tell its acknowledgements from forged ones. A `SigningKey` signs at epoch 1.
   * Default: unsigned.
   */
  readonly ackSigningKey?: SigningKey | CommandSigner;
  /**
   * Also reads the scope changes written this long before the start (ms; `Infinity`: all the topic
   * retains) before `ready`, so the highest version of an identity wins even when the compacted
   * snapshot topic's latest snapshot for it is older. Workers produce an identity's snapshot up to
   * `LIVESCOPE_SNAPSHOT_INTERVAL_MS` (default 10 s) after its change: keep this above that, with room
   * for clock skew and worker lag. Default 60 000 (`DEFAULT_CHANGES_LOOKBACK_MS`); 0: snapshots only.
   */
  readonly changesLookbackMs?: number;
  /** How long `start()` retries an unavailable broker or registry, ms. Default 60 000. */
  readonly startupTimeoutMs?: number;
}

export interface EnforcerStats {
  identities: number;
  applied: number;
  /** Commands older than the version held, explained by the two scope topics being read at different speeds. */
  stale: number;
  rejected: number;
  revocations: number;
  decisions: number;
  /** Commands of the version already held (each version arrives as a change and as a snapshot). */
  duplicates: number;
  /** Acknowledgements dropped while the broker was away (bounded buffer). */
  acksDropped: number;
}

/** The enforcer's lifecycle: `failed` when its consumer stopped for good (sensitive actions then fail closed). */
export type EnforcerLifecycle = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * How far back an enforcement point reads the change topic when it starts, by default: above the
 * workers' default snapshot interval (10 s), so a change whose snapshot is not written yet is read.
 */
export const DEFAULT_CHANGES_LOOKBACK_MS = 60_000;

/** At most this many pending alerts are kept while the broker is unreachable. */
const MAX_PENDING_ALERTS = 10_000;

/**
 * The SDK for enforcement points. It bootstraps from the compacted snapshot topic, then follows
 * scope changes, revocations and worker heartbeats; every command's Ed25519 signature is checked
 * against the topic and key it was read from, and the highest version per identity wins (see
 * CommandProcessor for the rules). `authorize()` is local and synchronous.
 */
export class Enforcer {
  readonly topics: TopicNames;
  readonly state: EnforcerState;
  readonly stats: EnforcerStats = { identities: 0, applied: 0, stale: 0, rejected: 0, revocations: 0, decisions: 0, duplicates: 0, acksDropped: 0 };
  /** The consumer group of this enforcement point (stable across restarts; no offsets are committed). */
  readonly groupId: string;
  private readonly processor: CommandProcessor;
  private readonly ackBuffer = new AckBuffer();
  private readonly ackSigner: CommandSigner | undefined;
  private acknowledger: Acknowledger | undefined;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly registry: SchemaRegistryClient;
  private readonly sensitive: (action: string) => boolean;
  private readonly maxStalenessMs: number;
  private readonly requireSession: boolean;
  private readonly aggregator: DecisionAggregator;
  /** Built once: `authorize()` allocates nothing it does not return. */
  private authorizeOptions: AuthorizeOptions | undefined;
  private readonly metrics: EnforcerMetrics | undefined;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private reports: EventPublisher | undefined;
  private alertSchemaId = 0;
  private partitions = 1;
  /** Partition count per followed topic (to tell a shared consumer group from a whole assignment). */
  private readonly partitionCounts = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private alertsInFlight: Promise<void> | undefined;
  private lifecycle: EnforcerLifecycle = 'created';
  private groupProblem: string | undefined;
  private highWaterLoaded = false;
  private consumerProblem: string | undefined;
  private readyResolve!: () => void;
  /** Settles `run()`: resolved when stopped, rejected with `failure` when failed. */
  private settle!: { resolve: () => void; reject: (e: unknown) => void };
  private readonly done: Promise<void>;
  private failure: unknown;
  /** Resolves once the snapshot topic (and the changes of `changesLookbackMs`) has been read up to where it stood at start. */
  readonly ready: Promise<void>;

  private readonly options: EnforcerOptions & { readonly logger: Logger };

  constructor(options: EnforcerOptions) {
    this.options = { ...options, logger: options.logger ?? createLogger('livescope-enforcer') };
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody may ever call run(): a failure must not become an unhandled rejection.
    this.done.catch(() => undefined);
    this.topics = topicNames(options.topicPrefix ?? '');
    this.groupId = `livescope-enforcer-${options.enforcerId}`;
    this.kafka = options.kafka ?? createKafka({ brokers: options.brokers, ...(options.ssl ? { ssl: options.ssl } : {}), ...(options.sasl ? { sasl: options.sasl } : {}), clientId: `livescope-enforcer-${options.enforcerId}`, logger: this.options.logger });
    this.producer = createProducer(this.kafka);
    this.registry = new SchemaRegistryClient(options.registryUrl, options.registryAuth);
    const s = options.sensitiveActions ?? [];
    this.sensitive = typeof s === 'function' ? s : ((set: Set<string>) => (a: string) => set.has(a))(new Set(s));
    this.maxStalenessMs = options.maxStalenessMs ?? 30_000;
    this.requireSession = options.requireSession ?? true;
    this.aggregator = new DecisionAggregator(options.maxReportKeys ?? 10_000, Date.now());
    this.state = new EnforcerState((id) => partitionForKey(id, this.partitions));
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.ackSigner = options.ackSigningKey === undefined ? undefined : options.ackSigningKey instanceof CommandSigner ? options.ackSigningKey : new CommandSigner(options.ackSigningKey);
    this.processor = new CommandProcessor({
      enforcerId: options.enforcerId,
      topics: this.topics,
      trustedKeys: options.trustedKeys,
      ...(options.minKeyEpoch === undefined ? {} : { minKeyEpoch: options.minKeyEpoch }),
      state: this.state,
      ...(options.acknowledge === false ? {} : { acks: this.ackBuffer }),
      maxPendingAlerts: MAX_PENDING_ALERTS,
      onReady: () => this.readyResolve(),
    });
    this.metrics = options.metricsRegistry
      ? new EnforcerMetrics(options.metricsRegistry, {
          identities: () => this.state.identities.size,
          staleness: () => {
            let oldest = Infinity;
            for (const p of this.state.liveness.values()) oldest = Math.min(oldest, p.heartbeatAt);
            return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
          },
          behind: () => this.state.behind.size,
          stalled: () => {
            const now = Date.now();
            let n = 0;
            for (const p of this.state.liveness.values()) if (p.waiting && now - p.progressAt > this.maxStalenessMs) n++;
            return n;
          },
        })
      : undefined;
  }

  get status(): EnforcerLifecycle {
    return this.lifecycle;
  }

  private set status(next: EnforcerLifecycle) {
    if (next === this.lifecycle) return;
    const log = this.options.logger;
    if (next === 'failed') log.error({ enforcerId: this.options.enforcerId, from: this.lifecycle, to: next, err: this.failure }, 'enforcer failed');
    else log.info({ enforcerId: this.options.enforcerId, from: this.lifecycle, to: next }, `enforcer ${next}`);
    this.lifecycle = next;
    if (next === 'stopped') this.settle.resolve();
    if (next === 'failed') this.settle.reject(this.failure);
  }

  /**
   * Settles when the enforcer ends: resolves once `stop()` has finished, rejects with the cause when
   * it failed for good (start-up gave up, or its consumer stopped: `CONSUMER_STOPPED`). Decisions
   * keep failing closed after a failure; a service wrapping the SDK exits on the rejection.
   */
  run(): Promise<void> {
    return this.done;
  }

  /** Decides locally. Never throws; unknown identities are denied. */
  authorize(identityId: string, sessionId: string | undefined, action: string, resource: string, nowMs = Date.now()): Decision {
    this.authorizeOptions ??= { requireSession: this.requireSession, sensitive: this.sensitive, maxStalenessMs: this.maxStalenessMs };
    const d = this.state.authorize(identityId, sessionId, action, resource, nowMs, this.authorizeOptions);
    this.stats.decisions++;
    this.metrics?.decisions.inc({ outcome: d.code });
    // The reason is read only for denials, when the report is built.
    if (this.options.reportDecisions !== false) this.aggregator.record(identityId, sessionId, action, resource, d.allowed, d);
    return d;
  }

  async start(): Promise<void> {
    if (this.lifecycle !== 'created') throw new Error(`enforcer cannot start from state ${this.lifecycle}`);
    this.status = 'starting';
    const o = this.options;
    const log = o.logger;
    const retrying = { timeoutMs: o.startupTimeoutMs ?? 60_000, baseMs: 250, shouldStop: () => this.lifecycle !== 'starting', onRetry: (err: unknown, attempt: number, delayMs: number) => log.warn({ err, attempt, delayMs }, 'starting the enforcer failed; retrying') };
    try {
      if (o.highWaterFile !== undefined) {
        const recorded = await loadHighWater(o.highWaterFile, this.topics.scopeSnapshots);
        for (const [id, version] of recorded) this.state.behind.set(id, version);
        // Only a file that was read (or absent) is ever rewritten: an unreadable one stays as evidence.
        this.highWaterLoaded = true;
        log.info({ enforcerId: o.enforcerId, path: o.highWaterFile, identities: recorded.size }, 'high-water file loaded');
      }
      const starts = await retry(() => this.connect(), retrying);
      this.processor.begin(starts, Date.now());
      await retry(() => this.runConsumer(), retrying);
    } catch (e) {
      this.failure = e;
      this.status = 'failed';
      throw e;
    }
    const flushMs = o.flushIntervalMs ?? 1000;
    this.timers.push(setInterval(() => void this.flush().catch((err: unknown) => log.warn({ err }, 'decision reports or acknowledgements not sent; retried at the next flush')), flushMs));
    if (o.highWaterFile !== undefined) this.timers.push(setInterval(() => void this.writeHighWater(false), o.highWaterIntervalMs ?? 5000));
    this.status = 'running';
    log.info({ enforcerId: o.enforcerId, groupId: this.groupId, partitions: this.partitions }, 'enforcer started');
  }

  /** Registry, admin, producer, and where every followed topic stands now (the start positions). */
  private async connect(): Promise<PartitionStart[]> {
    const t = this.topics;
    const latest = async (topic: string): Promise<number> => {
      const subject = valueSubject(topic);
      const set = await this.registry.loadSubjectIds(subject);
      if (set.size === 0) throw new EnforcerError('SCHEMA_NOT_REGISTERED', 'fatal', `no schema is registered for ${subject}; is a scope worker of this version running?`, { context: { subject } });
      return Math.max(...set);
    };
    for (const topic of [t.scopeChanges, t.scopeSnapshots, t.revocations, t.heartbeats]) await latest(topic);
    const ackSchemaId = await latest(t.enforcerAcks);
    this.alertSchemaId = await latest(t.driftAlerts);
    const reportsSchemaId = await latest(t.enforcerReports);
    this.admin ??= this.kafka.admin();
    const admin = this.admin;
    await admin.connect();
    this.partitions = await EventPublisher.partitionCount(admin, t.events);
    await this.producer.connect();
    this.reports = new EventPublisher(this.producer, t.enforcerReports, reportsSchemaId, await EventPublisher.partitionCount(admin, t.enforcerReports));
    this.acknowledger = new Acknowledger({ enforcerId: this.options.enforcerId, topic: t.enforcerAcks, schemaId: ackSchemaId, buffer: this.ackBuffer, identities: () => this.state.identities.size, ...(this.ackSigner ? { signer: this.ackSigner } : {}) });

    // Where the topics stand now. The snapshot topic is read from its beginning up to here before
    // we are ready; changes, revocations and heartbeats are followed from here (older scope is in
    // the snapshots). Snapshots are looked up first: a change written after the changes' start
    // position was written after every snapshot below the snapshots' one (the rollback rule needs it).
    const starts: PartitionStart[] = [];
    const snapshots = await admin.fetchTopicOffsets(t.scopeSnapshots);
    for (const p of snapshots) starts.push({ topic: t.scopeSnapshots, partition: p.partition, from: p.low, end: p.high, awaited: true });
    const changes = await admin.fetchTopicOffsets(t.scopeChanges);
    const lookback = this.options.changesLookbackMs ?? DEFAULT_CHANGES_LOOKBACK_MS;
    const changesFrom =
      lookback <= 0 ? undefined : lookback === Number.POSITIVE_INFINITY ? new Map(changes.map((p) => [p.partition, p.low])) : new Map((await admin.fetchTopicOffsetsByTimestamp(t.scopeChanges, Date.now() - lookback)).map((p) => [p.partition, p.offset]));
    for (const p of changes) {
      const from = changesFrom?.get(p.partition);
      starts.push({ topic: t.scopeChanges, partition: p.partition, from: from === undefined || BigInt(from) > BigInt(p.high) ? p.high : from, end: p.high, awaited: from !== undefined });
    }
    for (const topic of [t.revocations, t.heartbeats]) for (const p of await admin.fetchTopicOffsets(topic)) starts.push({ topic, partition: p.partition, from: p.high, end: p.high, awaited: false });
    this.partitionCounts.clear();
    for (const s of starts) this.partitionCounts.set(s.topic, (this.partitionCounts.get(s.topic) ?? 0) + 1);
    return starts;
  }

  private async runConsumer(): Promise<void> {
    const t = this.topics;
    // One stable group per enforcement point, no committed offsets: it seeks on every join, so every
    // enforcer sees every command and restarts leave no orphan groups behind.
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.joined(consumer, e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => {
      const cls = classify(e.payload.error);
      this.options.logger.error({ err: e.payload.error, class: cls, restart: e.payload.restart }, 'enforcer consumer crashed');
      if (e.payload.restart || this.lifecycle === 'stopping' || this.lifecycle === 'stopped') return;
      // Commands no longer arrive: sensitive actions fail closed at once rather than after maxStalenessMs.
      this.consumerProblem = `the enforcer's consumer stopped (${cls} error: ${e.payload.error.message.slice(0, 200)})`;
      this.updateDegraded();
      this.failure = new EnforcerError('CONSUMER_STOPPED', 'fatal', this.consumerProblem, { cause: e.payload.error, context: { enforcerId: this.options.enforcerId } });
      this.status = 'failed';
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [t.scopeSnapshots, t.scopeChanges, t.revocations, t.heartbeats], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: 4, eachBatch: (p) => this.eachBatch(p) });
    } catch (e) {
      await consumer.disconnect().catch((err: unknown) => this.options.logger.warn({ err }, 'enforcer consumer disconnect after a failed start'));
      throw e;
    }
  }

  /** Every join (the first, and after any rebalance): resume each assigned partition where it left off; a partial assignment means a shared group. */
  private joined(consumer: Consumer, assignment: Partial<Record<string, number[]>>): void {
    let held = 0;
    let total = 0;
    for (const [topic, count] of this.partitionCounts) {
      total += count;
      const mine = assignment[topic] ?? [];
      held += mine.length;
      for (const partition of mine) {
        const offset = this.processor.resumeOffset(topic, partition);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
      }
    }
    if (held < total) {
      const err = new EnforcerError('GROUP_SHARED', 'fatal', `consumer group ${this.groupId} has another member: this instance reads ${held} of ${total} partitions and misses commands. enforcerId must be unique per running instance`, { context: { groupId: this.groupId } });
      this.options.logger.error({ err }, 'enforcer consumer group is shared; sensitive actions fail closed');
      this.groupProblem = err.message;
    } else this.groupProblem = undefined;
    this.updateDegraded();
  }

  private updateDegraded(): void {
    this.state.degraded = this.consumerProblem ?? this.groupProblem;
  }

  async stop(): Promise<void> {
    if (this.lifecycle === 'stopping' || this.lifecycle === 'stopped') return;
    this.status = 'stopping';
    const log = this.options.logger;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // The last acknowledgements and reports; bounded, since the producer waits indefinitely for an absent broker.
    await withDeadline(this.flush(), 5000, () => 'sending the last acknowledgements and reports').catch((err: unknown) => log.warn({ err }, 'last acknowledgements or reports not sent'));
    await this.consumer?.disconnect().catch((err: unknown) => log.warn({ err }, 'enforcer consumer disconnect'));
    await this.writeHighWater(true);
    await this.producer.disconnect().catch((err: unknown) => log.warn({ err }, 'enforcer producer disconnect'));
    await this.admin?.disconnect().catch((err: unknown) => log.warn({ err }, 'enforcer admin disconnect'));
    this.status = 'stopped';
  }

  private eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const now = Date.now();
    // Built only for a batch in which a command carries a trace context: nothing is allocated otherwise.
    let spans: BatchSpans | undefined;
    for (const m of batch.messages) {
      const outcome = this.processor.handle({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}), timestamp: m.timestamp }, now);
      this.record(outcome, batch.topic, batch.partition, m);
      if (m.headers?.[TRACEPARENT_HEADER] !== undefined) (spans ??= new BatchSpans(batch.topic, batch.partition, now)).add(m.headers, outcome);
    }
    spans?.end();
    this.stats.identities = this.state.identities.size;
    this.stats.acksDropped = this.ackBuffer.dropped;
    // Large fan-outs: send full acknowledgements at once rather than let them pile up.
    if (this.ackBuffer.size >= ACK_ENTRIES_PER_MESSAGE * 5) void this.flushAcks().catch((err: unknown) => this.options.logger.warn({ err }, 'acknowledgement not sent'));
    void this.sendAlerts();
    return Promise.resolve();
  }

  private record(outcome: Outcome, topic: string, partition: number, m: KafkaMessage): void {
    switch (outcome.type) {
      case 'applied':
        this.metrics?.commands.inc({ kind: outcome.kind, outcome: 'applied' });
        if (outcome.revocation) {
          this.stats.revocations++;
          try {
            this.options.onRevocation?.(outcome.revocation);
          } catch (err) {
            this.options.logger.error({ err, identityId: outcome.identityId }, 'onRevocation threw; the revocation is applied here regardless');
          }
        } else this.stats.applied++;
        return;
      case 'duplicate':
        this.stats.duplicates++;
        this.metrics?.commands.inc({ kind: outcome.kind, outcome: 'duplicate' });
        return;
      case 'superseded':
        this.stats.stale++;
        this.metrics?.commands.inc({ kind: outcome.kind, outcome: 'stale-version' });
        return;
      case 'rejected':
        this.stats.rejected++;
        this.metrics?.commands.inc({ kind: outcome.kind, outcome: 'rejected' });
        this.options.logger.warn({ topic, partition, offset: m.offset, code: outcome.code, identityId: outcome.identityId, reason: outcome.reason }, 'rejected command');
        this.options.onRejected?.(outcome.reason, topic, m.offset);
        return;
      case 'heartbeat':
      case 'redelivered':
      case 'ignored':
        return;
    }
  }

  /** Sends the alerts the processor recorded; those the broker refuses wait for the next flush. */
  private sendAlerts(): Promise<void> {
    if (this.processor.pendingAlerts === 0) return this.alertsInFlight ?? Promise.resolve();
    this.alertsInFlight ??= (async () => {
      for (let alerts = this.processor.drainAlerts(); alerts.length > 0; alerts = this.processor.drainAlerts()) {
        try {
          await this.producer.send({ topic: this.topics.driftAlerts, acks: -1, messages: alerts.map((a: DriftAlert) => ({ key: a.identityId ?? null, value: encodeWireJson(this.alertSchemaId, a) })) });
        } catch (err) {
          this.processor.requeueAlerts(alerts);
          this.options.logger.warn({ err, alerts: alerts.length }, 'rejected-command alerts not sent; retried at the next flush');
          return;
        }
      }
    })().finally(() => (this.alertsInFlight = undefined));
    return this.alertsInFlight;
  }

  private flushAcks(): Promise<void> {
    return this.acknowledger ? this.acknowledger.flush(this.producer) : Promise.resolve();
  }

  private async writeHighWater(final: boolean): Promise<void> {
    const path = this.options.highWaterFile;
    if (path === undefined || !this.highWaterLoaded || (!this.processor.takeDirty() && !final)) return;
    try {
      await saveHighWater(path, { enforcerId: this.options.enforcerId, snapshotsTopic: this.topics.scopeSnapshots, writtenAt: new Date().toISOString() }, this.processor.highWaterVersions());
    } catch (err) {
      this.options.logger.warn({ err }, 'high-water file not written; retried at the next interval');
      // Nothing is lost: the versions are still held, and written next time.
      this.processor.markDirty();
    }
  }

  /** Sends acknowledgements, pending alerts and aggregated decision reports (to the reports topic, keyed by identity). */
  async flush(): Promise<void> {
    const now = Date.now();
    const sent = await Promise.allSettled([
      this.flushAcks(),
      this.sendAlerts(),
      (async () => {
        if (this.options.reportDecisions === false || !this.reports) return;
        const window = this.aggregator.drain(now);
        if (window.byIdentity.size > 0) await this.reports.publish(decisionReports(this.options.enforcerId, window), now);
      })(),
    ]);
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

