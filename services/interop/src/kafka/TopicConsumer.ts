import { ContractError, decodeWire, parseJsonPayload, parseWith, valueSubject, type DeadLetterReason } from '@livescope/contracts';
import { TransportError, type Logger, type SchemaRegistryClient } from '@livescope/transport';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { z } from 'zod';
import type { InteropMetrics } from '../InteropMetrics.js';
import type { DeadLetterInput, DeadLetterWriter } from './DeadLetterWriter.js';

export interface ConsumedRecord<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly value: T;
}

export interface ConsumedTopic {
  readonly topic: string;
  readonly schema: z.ZodType;
  /** Checks the command signature, which binds topic and key (throws a `poison` TransportError when it does not verify). */
  readonly verify?: (topic: string, key: string | null, value: Buffer, headers: IHeaders | undefined) => void;
}

export interface TopicConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topics: readonly ConsumedTopic[];
  readonly fromBeginning: boolean;
  readonly registry: SchemaRegistryClient;
  readonly deadLetters: DeadLetterWriter;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
  /** Largest accepted message value (bytes). Default 1 MiB. */
  readonly maxBytes?: number;
  /** Handles the valid records of a batch, in order. Throwing retries the batch (at-least-once). */
  readonly handle: (records: readonly ConsumedRecord[], payload: EachBatchPayload) => Promise<void>;
}

/**
 * A consumer-group member on output topics of the pipeline: decodes the wire format, checks the
 * schema id against the registry subject, verifies signatures where the topic is signed, validates
 * with the contract; dead-letters what fails (with reason and original bytes) and hands the rest to
 * `handle`. Offsets are committed only after `handle` succeeded for the whole batch.
 */
export class TopicConsumer {
  private consumer: Consumer | undefined;

  constructor(private readonly o: TopicConsumerOptions) {}

  async start(): Promise<void> {
    for (const t of this.o.topics) await this.o.registry.loadSubjectIds(valueSubject(t.topic)).catch(() => undefined);
    const consumer = this.o.kafka.consumer({ groupId: this.o.groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.o.topics.map((t) => t.topic), fromBeginning: this.o.fromBeginning });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.batch(p) });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private async batch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const spec = this.o.topics.find((t) => t.topic === batch.topic);
    if (!spec || batch.messages.length === 0) return;
    const valid: ConsumedRecord[] = [];
    const rejected: DeadLetterInput[] = [];
    for (const m of batch.messages) {
      const r = await this.decode(spec, batch.partition, m);
      if ('reason' in r) rejected.push(r);
      else valid.push(r);
    }
    if (valid.length) await this.o.handle(valid, p);
    if (rejected.length) {
      await this.o.deadLetters.write(rejected);
      for (const d of rejected) this.o.metrics.deadLetters.inc({ reason: d.reason });
    }
    const last = batch.messages[batch.messages.length - 1]!;
    p.resolveOffset(last.offset);
    await p.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }] });
    await p.heartbeat();
  }

  private async decode(spec: ConsumedTopic, partition: number, m: KafkaMessage): Promise<ConsumedRecord | DeadLetterInput> {
    const origin = { topic: spec.topic, partition, offset: m.offset, timestamp: new Date(Number(m.timestamp)).toISOString(), ...(m.key ? { key: m.key.toString() } : {}) };
    const reject = (reason: DeadLetterReason, message: string): DeadLetterInput => {
      this.o.logger.warn({ topic: spec.topic, partition, offset: m.offset, reason }, message);
      return { reason, message, origin, value: m.value ?? Buffer.alloc(0) };
    };
    const value = m.value;
    if (value && value.length > (this.o.maxBytes ?? 1024 * 1024)) return reject('oversized', `message of ${value.length} bytes exceeds the limit`);
    try {
      const frame = decodeWire(value);
      const subject = valueSubject(spec.topic);
      if (!this.o.registry.isKnown(subject, frame.schemaId)) {
        const known = await this.o.registry.refreshUnknown(subject, frame.schemaId, Date.now()).catch(() => false);
        if (!known) return reject('unknown-schema-id', `schema id ${frame.schemaId} is not a version of ${subject}`);
      }
      spec.verify?.(spec.topic, m.key?.toString() ?? null, value!, m.headers);
      return { topic: spec.topic, partition, offset: m.offset, key: m.key?.toString(), value: parseWith<z.ZodType>(spec.schema, parseJsonPayload(frame.payload), spec.topic) };
    } catch (e) {
      if (ContractError.is(e)) return reject(e.code, e.message);
      if (TransportError.is(e) && e.classification === 'poison') return reject('invalid-signature', e.message);
      throw e;
    }
  }
}
