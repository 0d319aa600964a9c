import { classify } from '@livescope/errors';
import { randomUUID } from 'node:crypto';
import { decodeMessage, Revocation, ScopeChange, type EnforcerAck, type TopicNames } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import type { ActivityWindow } from '../tracking/ActivityWindow.js';
import type { CommandTracker } from '../tracking/CommandTracker.js';
import { orderIdsOf } from '../audit/auditItem.js';

const DECODE = { maxBytes: 16 * 1024 * 1024, isKnownSchemaId: () => true };
const key = (topic: string, partition: number): string => `${topic}#${partition}`;

/**
 * Follows scope changes, revocations and enforcer acknowledgements into the CommandTracker. Every
 * control-plane instance follows all partitions (a private consumer group without commits), from
 * `windowMs` ago on start, so the progress of recent orders survives a restart.
 */
export class CommandFollower {
  private consumer: Consumer | undefined;
  /** Next offset to read per topic partition. */
  private readonly positions = new Map<string, bigint>();
  private crashed: string | undefined;

  constructor(
    private readonly deps: {
      readonly kafka: Kafka;
      readonly admin: Admin;
      readonly topics: TopicNames;
      readonly tracker: CommandTracker;
      /**
       * Reads an acknowledgement and judges who sent it: undefined when it is refused (it never
       * counts an enforcement point as having applied anything); throws when it is unreadable.
       */
      readonly readAck: (topic: string, m: KafkaMessage) => { readonly ack: EnforcerAck; readonly verified: boolean } | undefined;
      readonly windowMs: number;
      readonly groupPrefix: string;
      readonly logger: Logger;
      readonly metrics: ControlPlaneMetrics;
      /** Counts scope changes (by direction) and revocations over time for the fleet view. */
      readonly activity?: ActivityWindow;
      /** Called after a batch of scope changes or revocations was read (wakes change streams). */
      readonly onCommands?: () => void;
    },
  ) {}

  get health(): string {
    return this.crashed ?? (this.consumer ? 'ok' : 'not started');
  }

  private get followed(): string[] {
    const t = this.deps.topics;
    return [t.scopeChanges, t.revocations, t.enforcerAcks];
  }

  async start(): Promise<void> {
    const { kafka, admin, windowMs } = this.deps;
    const from = Date.now() - windowMs;
    for (const topic of this.followed) {
      for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, from)) this.positions.set(key(topic, o.partition), BigInt(o.offset));
    }
    const consumer = kafka.consumer({ groupId: `${this.deps.groupPrefix}-follower-${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    // On every (re)join, continue exactly where this follower stands: no gap after a consumer restart.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashed = undefined;
      for (const [k, offset] of this.positions) {
        const i = k.lastIndexOf('#');
        consumer.seek({ topic: k.slice(0, i), partition: Number(k.slice(i + 1)), offset: offset.toString() });
      }
    });
    consumer.on(consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer itself unless the error is not retriable.
      this.crashed = `${e.payload.restart ? 'restarting after' : 'stopped by'}: ${e.payload.error.message}`;
      this.deps.logger.error({ err: e.payload.error, class: classify(e.payload.error), restart: e.payload.restart }, 'command follower crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.followed, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, partitionsConsumedConcurrently: 4, eachBatch: (p) => this.eachBatch(p) });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /** Whether this follower has read every topic partition in `ends` up to the given offset. */
  caughtUp(ends: ReadonlyMap<string, bigint>): boolean {
    for (const [k, end] of ends) if ((this.positions.get(k) ?? 0n) < end) return false;
    return true;
  }

  /** Current ends of the command topics (scope changes and revocations), to wait for with `caughtUp`. */
  async commandTopicEnds(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for (const topic of [this.deps.topics.scopeChanges, this.deps.topics.revocations]) {
      for (const o of await this.deps.admin.fetchTopicOffsets(topic)) out.set(key(topic, o.partition), BigInt(o.high));
    }
    return out;
  }

  private eachBatch({ batch }: EachBatchPayload): Promise<void> {
    this.crashed = undefined;
    const t = this.deps.topics;
    const kind = batch.topic === t.scopeChanges ? 'scope.changes' : batch.topic === t.revocations ? 'revocations' : 'enforcer.acks';
    let last: bigint | undefined;
    for (const m of batch.messages) {
      last = BigInt(m.offset);
      try {
        if (batch.topic === t.enforcerAcks) {
          // Refusals are counted and logged by the EnforcerAckSink, which reads the same messages.
          const read = this.deps.readAck(batch.topic, m);
          if (read) this.deps.tracker.observeAck(read.ack, read.verified);
        } else if (batch.topic === t.scopeChanges) {
          const c = decodeMessage(ScopeChange, m.value, DECODE, 'scope change');
          this.deps.tracker.observeCommand({ kind: 'scope', identityId: c.identityId, version: c.version, producedAtMs: Number(m.timestamp), eventId: c.cause.eventId, eventType: c.cause.eventType, orderIds: orderIdsOf(c) });
          this.deps.activity?.record(Number(m.timestamp), c.direction);
        } else {
          const r = decodeMessage(Revocation, m.value, DECODE, 'revocation');
          this.deps.tracker.observeCommand({ kind: 'revocation', identityId: r.identityId, version: r.version, producedAtMs: Number(m.timestamp), eventId: r.cause.eventId, eventType: r.cause.eventType, orderIds: r.cause.orderIds ?? [] });
          this.deps.activity?.record(Number(m.timestamp), 'revocation');
        }
        this.deps.metrics.consumed.inc({ topic: kind, outcome: 'applied' });
      } catch (e) {
        // Unreadable outputs are the workers' problem to report; this view skips them.
        this.deps.metrics.consumed.inc({ topic: kind, outcome: 'poison' });
        this.deps.logger.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, err: e }, 'unreadable message skipped');
      }
    }
    if (last !== undefined) this.positions.set(key(batch.topic, batch.partition), last + 1n);
    if (last !== undefined && batch.topic !== t.enforcerAcks) this.deps.onCommands?.();
    return Promise.resolve();
  }
}
