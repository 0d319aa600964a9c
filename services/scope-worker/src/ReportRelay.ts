import { createHash } from 'node:crypto';
import { ContractError, DEAD_LETTER_VALUE_BYTES, decodeMessage, DecisionsReported, encodeWire, type DeadLetter, type TopicNames } from '@livescope/contracts';
import { classify, retry } from '@livescope/errors';
import type { Logger, SchemaRegistryClient } from '@livescope/transport';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { WorkerMetrics } from './WorkerMetrics.js';

export interface ReportRelayOptions {
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly registry: SchemaRegistryClient;
  readonly topics: TopicNames;
  /** Consumer group of the relay (one per worker fleet): `<worker group>-report-relay`. */
  readonly groupId: string;
  readonly eventsSchemaId: number;
  readonly deadLetterSchemaId: number;
  readonly maxMessageBytes: number;
  readonly workerId: string;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly isStopping: () => boolean;
  /** Called when the relay meets an error it cannot retry (fatal): the worker stops. */
  readonly onFatal: (e: unknown) => void;
}

/**
 * Moves enforcement points' decision reports from their own topic into the events topic.
 * Enforcement points may write only the reports and acknowledgement topics — never a topic that can
 * widen scope — so their reports reach the events topic only through this relay, which accepts
 * nothing but a valid `enforcement.decisions` event keyed by its subject and forwards it unsigned
 * (an observation: it can raise alerts and record use, never widen). Anything else is dead-lettered.
 * At least once: offsets are committed after the forwarded events are acknowledged; a duplicate is
 * ignored by the engine (same event id).
 */
export class ReportRelay {
  private consumer: Consumer | undefined;
  private readonly subject: string;

  constructor(private readonly o: ReportRelayOptions) {
    this.subject = `${o.topics.enforcerReports}-value`;
  }

  async start(): Promise<void> {
    const consumer = this.o.kafka.consumer({ groupId: this.o.groupId, maxWaitTimeInMs: 250, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      if (this.o.isStopping()) return;
      const cls = classify(e.payload.error);
      this.o.logger.error({ err: e.payload.error, class: cls, restart: e.payload.restart }, 'report relay consumer crashed');
      if (!e.payload.restart && cls === 'fatal') this.o.onFatal(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topics.enforcerReports, fromBeginning: true });
    await consumer.run({ autoCommit: true, eachBatchAutoResolve: false, eachBatch: (p) => this.eachBatch(p) });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch((err: unknown) => this.o.logger.warn({ err }, 'report relay disconnect'));
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    await this.resolveSchemaIds(batch.messages);
    const forward: Message[] = [];
    const dead: Message[] = [];
    for (const m of batch.messages) {
      try {
        const report = decodeMessage(DecisionsReported, m.value, { maxBytes: this.o.maxMessageBytes, isKnownSchemaId: (id) => this.o.registry.isKnown(this.subject, id) }, 'decision report');
        const key = m.key?.toString();
        if (key !== report.subject) throw new ContractError('key-mismatch', `decision report ${report.id} is keyed ${String(key).slice(0, 256)}, not by its subject ${report.subject}`);
        // The same JSON, re-framed with the events subject's schema id; no producer signature: an observation.
        forward.push({ key: report.subject, value: encodeWire(this.o.eventsSchemaId, Buffer.from(JSON.stringify(report))) });
      } catch (e) {
        const reason = ContractError.is(e) ? e.code : 'unprocessable';
        this.o.metrics.deadLetters.inc({ reason });
        dead.push({ key: null, value: encodeWire(this.o.deadLetterSchemaId, Buffer.from(JSON.stringify(this.deadLetter(batch.partition, m, reason, e instanceof Error ? e.message : String(e))))) });
      }
    }
    const topicMessages = [
      ...(forward.length ? [{ topic: this.o.topics.events, messages: forward }] : []),
      ...(dead.length ? [{ topic: this.o.topics.deadLetters, messages: dead }] : []),
    ];
    if (topicMessages.length > 0) {
      await retry(() => this.o.producer.sendBatch({ topicMessages, acks: -1 }), {
        shouldStop: () => this.o.isStopping() || !payload.isRunning(),
        onRetry: (err, attempt, delayMs) => {
          this.o.metrics.transientErrors.inc({ component: 'kafka' });
          this.o.logger.warn({ err, attempt, delayMs }, 'relaying decision reports: broker unavailable; retrying');
        },
      });
    }
    this.o.metrics.reportsRelayed.inc(forward.length);
    payload.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    await payload.commitOffsetsIfNecessary();
  }

  private async resolveSchemaIds(messages: readonly KafkaMessage[]): Promise<void> {
    const unknown = new Set<number>();
    for (const m of messages) if (m.value && m.value.length >= 5 && m.value[0] === 0 && !this.o.registry.isKnown(this.subject, m.value.readUInt32BE(1))) unknown.add(m.value.readUInt32BE(1));
    for (const id of unknown) await retry(() => this.o.registry.refreshUnknown(this.subject, id, Date.now()), { shouldStop: () => this.o.isStopping() });
  }

  private deadLetter(partition: number, m: KafkaMessage, reason: DeadLetter['reason'], message: string): DeadLetter {
    const value = m.value ?? Buffer.alloc(0);
    const truncated = value.length > DEAD_LETTER_VALUE_BYTES;
    return {
      kind: 'dead-letter',
      reason,
      message: message.slice(0, 2000),
      source: { topic: this.o.topics.enforcerReports, partition, offset: m.offset, timestamp: m.timestamp, ...(m.key ? { key: m.key.subarray(0, 1024).toString('base64') } : {}) },
      value: (truncated ? value.subarray(0, DEAD_LETTER_VALUE_BYTES) : value).toString('base64'),
      valueBytes: value.length,
      valueSha256: createHash('sha256').update(value).digest('hex'),
      ...(truncated ? { valueTruncated: true } : {}),
      workerId: this.o.workerId,
    };
  }
}
