import { randomUUID } from 'node:crypto';
import {
  ContractError,
  decodeJson,
  decodeMessage,
  type DriftAlert,
  type EnforcerAck,
  Heartbeat,
  Revocation,
  ScopeChange,
  parseWith,
  ScopeSnapshot,
  topicNames,
  valueSubject,
  type LivescopeEventInput,
  type TopicNames,
} from '@livescope/contracts';
import {
  CommandVerifier,
  createKafka,
  createProducer,
  EventPublisher,
  partitionForKey,
  SchemaRegistryClient,
  TransportError,
  type KafkaSaslOptions,
  type KafkaSslOptions,
  type Logger,
  type RegistryClientOptions,
  type VerifyingKey,
} from '@livescope/transport';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { encodeWireJson } from '@livescope/contracts';
import type { Registry } from 'prom-client';
import { DecisionAggregator } from './DecisionAggregator.js';
import { EnforcerMetrics } from './EnforcerMetrics.js';
import { EnforcerState, type AuthorizeOptions, type Decision } from './EnforcerState.js';

/** Entries per acknowledgement message (the contract allows 10 000; 2 000 keep a message ~400 KB). */
const ACK_ENTRIES_PER_MESSAGE = 2000;
/** Acknowledgements held while the broker is unreachable; older ones are dropped beyond this. */
const MAX_PENDING_ACKS = 100_000;

export interface EnforcerOptions {
  readonly brokers: readonly string[];
  /** TLS to the brokers: CA file, optional client certificate and key, server name. Default: plaintext. */
  readonly ssl?: KafkaSslOptions;
  /** SASL, e.g. `{ mechanism: 'scram-sha-512', username: 'enforcer', password }`. Default: none. */
  readonly sasl?: KafkaSaslOptions;
  readonly registryUrl: string;
  /** Registry basic-auth credentials and CA file. Default: none. */
  readonly registryAuth?: RegistryClientOptions;
  readonly enforcerId: string;
  /** Public keys trusted for command signatures (several during a key rotation). */
  readonly trustedKeys: readonly VerifyingKey[];
  readonly logger: Logger;
  readonly topicPrefix?: string;
  /** Actions that fail closed when the pipeline has been silent for `maxStalenessMs`. Default: none. */
  readonly sensitiveActions?: readonly string[] | ((action: string) => boolean);
  /** Staleness bound in ms for sensitive actions. Default 30 000. */
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
  /** Called for every rejected (unsigned, forged, replayed) command. */
  readonly onRejected?: (reason: string, topic: string, offset: string) => void;
  readonly kafka?: Kafka;
  /** Registers the enforcer's Prometheus metrics in this registry (prom-client). */
  readonly metricsRegistry?: Registry;
}

export interface EnforcerStats {
  identities: number;
  applied: number;
  stale: number;
  rejected: number;
  revocations: number;
  decisions: number;
}

const DECODE = { maxBytes: 4 * 1024 * 1024 };

/** A snapshot message's JSON (not yet validated), or undefined when it does not decode (the regular path then rejects it). */
function readSnapshot(value: Buffer | null): unknown {
  try {
    return decodeJson(value, { ...DECODE, isKnownSchemaId: () => true });
  } catch (e) {
    if (ContractError.is(e)) return undefined;
    throw e;
  }
}

/**
 * The SDK for enforcement points. It bootstraps from the compacted snapshot topic, then follows
 * scope changes, revocations and worker heartbeats; every command's Ed25519 signature is checked
 * and only newer versions are applied. `authorize()` is local and synchronous.
 */
export class Enforcer {
  readonly topics: TopicNames;
  readonly state: EnforcerState;
  readonly stats: EnforcerStats = { identities: 0, applied: 0, stale: 0, rejected: 0, revocations: 0, decisions: 0 };
  private readonly verifier: CommandVerifier;
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
  private publisher: EventPublisher | undefined;
  private ackSchemaId = 0;
  private alertSchemaId = 0;
  private partitions = 1;
  private readonly pendingAcks: EnforcerAck['applied'] = [];
  private rejectedSinceAck = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private catchUp = new Map<string, bigint>();
  /** Highest version seen per identity on the changes topic itself: a replay is older than that. */
  private readonly changeVersions = new Map<string, number>();
  private readyResolve!: () => void;
  /** Resolves once the snapshot topic has been read up to where it stood at start. */
  readonly ready: Promise<void>;

  constructor(private readonly options: EnforcerOptions) {
    this.topics = topicNames(options.topicPrefix ?? '');
    this.verifier = new CommandVerifier(options.trustedKeys);
    this.kafka = options.kafka ?? createKafka({ brokers: options.brokers, ...(options.ssl ? { ssl: options.ssl } : {}), ...(options.sasl ? { sasl: options.sasl } : {}), clientId: `livescope-enforcer-${options.enforcerId}`, logger: options.logger });
    this.producer = createProducer(this.kafka);
    this.registry = new SchemaRegistryClient(options.registryUrl, options.registryAuth);
    const s = options.sensitiveActions ?? [];
    this.sensitive = typeof s === 'function' ? s : ((set: Set<string>) => (a: string) => set.has(a))(new Set(s));
    this.maxStalenessMs = options.maxStalenessMs ?? 30_000;
    this.requireSession = options.requireSession ?? true;
    this.aggregator = new DecisionAggregator(options.maxReportKeys ?? 10_000, Date.now());
    this.state = new EnforcerState((id) => partitionForKey(id, this.partitions));
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.metrics = options.metricsRegistry
      ? new EnforcerMetrics(
          options.metricsRegistry,
          () => this.state.identities.size,
          () => {
            const beats = [...this.state.heartbeats.values()];
            return beats.length === 0 ? 0 : (Date.now() - Math.min(...beats)) / 1000;
          },
        )
      : undefined;
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
    const log = this.options.logger;
    const ids = async (topic: string): Promise<number> => {
      const subject = valueSubject(topic);
      const set = await this.registry.loadSubjectIds(subject);
      if (set.size === 0) throw new TransportError('REGISTRY_REJECTED', 'fatal', `no schema is registered for ${subject}; is the scope worker running?`);
      return Math.max(...set);
    };
    for (const t of [this.topics.scopeChanges, this.topics.scopeSnapshots, this.topics.revocations, this.topics.heartbeats]) await ids(t);
    this.ackSchemaId = await ids(this.topics.enforcerAcks);
    this.alertSchemaId = await ids(this.topics.driftAlerts);
    const eventsSchemaId = await ids(this.topics.events);
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.partitions = await EventPublisher.partitionCount(this.admin, this.topics.events);
    await this.producer.connect();
    this.publisher = new EventPublisher(this.producer, this.topics.events, eventsSchemaId, this.partitions);

    // Where the topics stand now: snapshots are read to here before we are ready; changes and
    // revocations are followed from here (anything older is covered by the snapshots).
    const changesAt = await this.admin.fetchTopicOffsets(this.topics.scopeChanges);
    const revocationsAt = await this.admin.fetchTopicOffsets(this.topics.revocations);
    const heartbeatsAt = await this.admin.fetchTopicOffsets(this.topics.heartbeats);
    const snapshotsAt = await this.admin.fetchTopicOffsets(this.topics.scopeSnapshots);
    for (const o of snapshotsAt) if (BigInt(o.high) > BigInt(o.low)) this.catchUp.set(`${o.partition}`, BigInt(o.high) - 1n);
    if (this.catchUp.size === 0) this.readyResolve();

    // A private group with no committed offsets: every enforcer sees every command.
    const consumer = this.kafka.consumer({ groupId: `livescope-enforcer-${this.options.enforcerId}-${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topics.scopeSnapshots, this.topics.scopeChanges, this.topics.revocations, this.topics.heartbeats], fromBeginning: true });
    let seeked = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (seeked) return;
      seeked = true;
      for (const o of changesAt) consumer.seek({ topic: this.topics.scopeChanges, partition: o.partition, offset: o.high });
      for (const o of revocationsAt) consumer.seek({ topic: this.topics.revocations, partition: o.partition, offset: o.high });
      for (const o of heartbeatsAt) consumer.seek({ topic: this.topics.heartbeats, partition: o.partition, offset: o.high });
    });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: 4, eachBatch: (p) => this.eachBatch(p) });
    this.flushTimer = setInterval(() => void this.flush().catch((e: unknown) => this.options.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'decision reports or acknowledgements not sent; retried at the next flush')), this.options.flushIntervalMs ?? 1000);
    log.info({ enforcerId: this.options.enforcerId, partitions: this.partitions }, 'enforcer started');
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flush().catch(() => undefined);
    await this.consumer?.disconnect();
    await this.producer.disconnect();
    await this.admin?.disconnect();
  }

  private eachBatch({ batch }: EachBatchPayload): Promise<void> {
    const t = this.topics;
    const now = Date.now();
    for (const m of batch.messages) {
      // A snapshot's JSON is read once: to see whether it is superseded, then to validate it.
      const snapshot = batch.topic === t.scopeSnapshots ? readSnapshot(m.value) : undefined;
      if (snapshot !== undefined && this.superseded(snapshot)) {
        // A snapshot no newer than the version held cannot change anything (the change of the same
        // version carried the same full scope): skip its Ed25519 verification (~70 µs), which was
        // half of an enforcer's work in a large fan-out. Anything newer is verified as before.
        this.metrics?.commands.inc({ kind: 'scope.snapshot', outcome: 'duplicate' });
        this.caughtUp(batch.partition, BigInt(m.offset));
        continue;
      }
      try {
        if (batch.topic === t.heartbeats) {
          this.verifier.check(batch.topic, m.key?.toString() ?? null, m.value!, m.headers);
          const hb = decodeMessage(Heartbeat, m.value, { ...DECODE, isKnownSchemaId: () => true }, 'heartbeat');
          this.state.heartbeat(hb.partition, Date.parse(hb.at));
          continue;
        }
        this.verifier.check(batch.topic, m.key?.toString() ?? null, m.value!, m.headers);
        if (batch.topic === t.revocations) {
          const r = decodeMessage(Revocation, m.value, { ...DECODE, isKnownSchemaId: () => true }, 'revocation');
          this.state.applyRevocation(r);
          this.stats.revocations++;
          this.metrics?.commands.inc({ kind: 'revocation', outcome: 'applied' });
          this.ack(r.identityId, r.version, m, now, 'revocation');
          this.options.onRevocation?.(r);
        } else {
          const c =
            snapshot !== undefined
              ? parseWith(ScopeSnapshot, snapshot, 'scope command')
              : decodeMessage(batch.topic === t.scopeSnapshots ? ScopeSnapshot : ScopeChange, m.value, { ...DECODE, isKnownSchemaId: () => true }, 'scope command');
          const outcome = this.state.applyScope(c);
          this.metrics?.commands.inc({ kind: c.kind, outcome });
          const seenOnChanges = batch.topic === t.scopeChanges ? this.changeVersions.get(c.identityId) : undefined;
          if (batch.topic === t.scopeChanges && (seenOnChanges === undefined || c.version > seenOnChanges)) this.changeVersions.set(c.identityId, c.version);
          if (outcome === 'applied') {
            this.stats.applied++;
            this.ack(c.identityId, c.version, m, now, c.kind);
          } else if (outcome === 'stale-version') {
            this.stats.stale++;
            // A change older than one already seen on the changes topic is a replay: refuse it loudly. (A change
            // older than a snapshot is not: the two topics are read concurrently.)
            if (seenOnChanges !== undefined && c.version < seenOnChanges) this.reject(`replayed old version ${c.version} of ${c.identityId}`, batch.topic, m, c.identityId);
          }
        }
      } catch (e) {
        if (TransportError.is(e) || ContractError.is(e)) this.reject(e.message, batch.topic, m, m.key?.toString());
        else throw e;
      }
      if (batch.topic === t.scopeSnapshots) this.caughtUp(batch.partition, BigInt(m.offset));
    }
    this.stats.identities = this.state.identities.size;
    return Promise.resolve();
  }

  /** Whether a snapshot's version is not newer than the one held (read before verifying; false when unsure). */
  private superseded(snapshot: unknown): boolean {
    const v = snapshot as { identityId?: unknown; version?: unknown };
    if (typeof v.identityId !== 'string' || typeof v.version !== 'number') return false;
    const held = this.state.identities.get(v.identityId);
    return held !== undefined && v.version <= held.version;
  }

  private caughtUp(partition: number, offset: bigint): void {
    const target = this.catchUp.get(`${partition}`);
    if (target === undefined || offset < target) return;
    this.catchUp.delete(`${partition}`);
    if (this.catchUp.size === 0) this.readyResolve();
  }

  private ack(identityId: string, version: number, m: KafkaMessage, nowMs: number, kind: EnforcerAck['applied'][number]['kind']): void {
    if (this.options.acknowledge === false) return;
    this.pendingAcks.push({ identityId: identityId as never, version, producedAt: new Date(Number(m.timestamp)).toISOString(), appliedAt: new Date(nowMs).toISOString(), kind });
    // Large fan-outs: send full acknowledgements at once rather than let them pile up.
    if (this.pendingAcks.length >= ACK_ENTRIES_PER_MESSAGE * 5) void this.flushAcks().catch((e: Error) => this.options.logger.warn({ err: e.message }, 'acknowledgement not sent'));
  }

  private async flushAcks(): Promise<void> {
    while (this.pendingAcks.length > 0 || this.rejectedSinceAck > 0) {
      // One ack message stays far below the broker's 1 MiB message limit (an entry is ~200 bytes).
      const applied = this.pendingAcks.splice(0, ACK_ENTRIES_PER_MESSAGE);
      const rejected = this.rejectedSinceAck;
      const ack: EnforcerAck = { kind: 'enforcer.ack', enforcerId: this.options.enforcerId as never, at: new Date().toISOString(), identities: this.state.identities.size, applied, rejected };
      this.rejectedSinceAck = 0;
      try {
        await this.producer.send({ topic: this.topics.enforcerAcks, acks: -1, messages: [{ key: this.options.enforcerId, value: encodeWireJson(this.ackSchemaId, ack) }] });
      } catch (e) {
        // Kept for the next flush (bounded: the oldest entries go first when the broker stays away).
        this.pendingAcks.unshift(...applied.slice(Math.max(0, applied.length + this.pendingAcks.length - MAX_PENDING_ACKS)));
        this.rejectedSinceAck += rejected;
        throw e;
      }
    }
  }

  private reject(reason: string, topic: string, m: KafkaMessage, identityId: string | undefined): void {
    this.stats.rejected++;
    this.rejectedSinceAck++;
    this.metrics?.commands.inc({ kind: topic.includes('revocations') ? 'revocation' : topic.includes('snapshots') ? 'scope.snapshot' : 'scope.change', outcome: 'rejected' });
    this.options.logger.warn({ topic, offset: m.offset, reason }, 'rejected command');
    this.options.onRejected?.(reason, topic, m.offset);
    const alert: DriftAlert = {
      kind: 'drift.alert',
      alertId: `${this.options.enforcerId}/${topic}/${m.offset}/rejected`,
      type: 'rejected-command',
      severity: 'critical',
      ...(identityId ? { identityId: identityId as never } : {}),
      enforcerId: this.options.enforcerId as never,
      at: new Date().toISOString(),
      summary: `enforcer ${this.options.enforcerId} rejected a command on ${topic}: ${reason}`,
      details: { topic, offset: m.offset, reason },
      cause: {},
    };
    void this.producer
      .send({ topic: this.topics.driftAlerts, acks: -1, messages: [{ key: identityId ?? null, value: encodeWireJson(this.alertSchemaId, alert) }] })
      .catch((e: Error) => this.options.logger.warn({ err: e.message }, 'could not raise rejected-command alert'));
  }

  /** Sends aggregated decision reports (to the events topic, keyed by identity) and acknowledgements. */
  async flush(): Promise<void> {
    const now = Date.now();
    await this.flushAcks();
    if (this.options.reportDecisions === false || !this.publisher) return;
    const window = this.aggregator.drain(now);
    if (window.byIdentity.size === 0) return;
    const events: LivescopeEventInput[] = [];
    for (const [identityId, counts] of window.byIdentity) {
      // Only denials and first uses matter downstream; pure repeats of allowed decisions are still reported (usage).
      for (let i = 0; i < counts.length; i += 256) {
        events.push({
          specversion: '1.0',
          id: `${this.options.enforcerId}/${window.windowStart}/${identityId}/${i}`,
          type: 'enforcement.decisions',
          source: `enforcer/${this.options.enforcerId}`,
          time: new Date(window.windowEnd).toISOString(),
          subject: identityId,
          data: {
            enforcerId: this.options.enforcerId,
            windowStart: new Date(window.windowStart).toISOString(),
            windowEnd: new Date(window.windowEnd).toISOString(),
            decisions: counts.slice(i, i + 256).map((c) => ({ action: c.action, resource: c.resource, ...(c.sessionId ? { sessionId: c.sessionId } : {}), allowed: c.allowed, denied: c.denied, ...(c.reason ? { reason: c.reason.slice(0, 1000) } : {}) })),
          },
        });
      }
    }
    await this.publisher.publish(events, now);
  }
}
