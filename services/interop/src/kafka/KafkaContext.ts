import { topicNames, valueSubject, type TopicNames } from '@livescope/contracts';
import { createKafka, createProducer, EventPublisher, SchemaRegistryClient, type KafkaSecurityOptions, type Logger, type ProducerSigner, type RegistryClientOptions } from '@livescope/transport';
import type { Kafka, Producer } from 'kafkajs';
import { InteropError } from '../InteropError.js';
import { DeadLetterWriter } from './DeadLetterWriter.js';
import { interopSubjectSpecs } from './interopSubjects.js';

export interface KafkaContextOptions extends KafkaSecurityOptions {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  /** Registry basic auth and CA. */
  readonly registryAuth?: RegistryClientOptions;
  readonly topicPrefix: string;
  readonly clientId: string;
  readonly writerId: string;
  readonly logger: Logger;
  /** Signs every input event published (a producer key the workers' keyring knows); absent: unsigned observations. */
  readonly producerSigner?: ProducerSigner;
}

/**
 * The Kafka side shared by the ingest CLI and the interop service: one idempotent producer, the
 * registry with this service's subjects registered, an EventPublisher for the events topic and a
 * dead-letter writer.
 */
export class KafkaContext {
  private constructor(
    readonly kafka: Kafka,
    readonly producer: Producer,
    readonly registry: SchemaRegistryClient,
    readonly topics: TopicNames,
    readonly schemaIds: ReadonlyMap<string, number>,
    readonly publisher: EventPublisher,
    readonly deadLetters: DeadLetterWriter,
  ) {}

  static async open(o: KafkaContextOptions): Promise<KafkaContext> {
    const kafka = createKafka({ brokers: o.brokers, ...(o.ssl ? { ssl: o.ssl } : {}), ...(o.sasl ? { sasl: o.sasl } : {}), clientId: o.clientId, logger: o.logger });
    const topics = topicNames(o.topicPrefix);
    const registry = new SchemaRegistryClient(o.registryUrl, o.registryAuth);
    let registered;
    try {
      registered = await registry.registerAll(interopSubjectSpecs(o.topicPrefix));
    } catch (cause) {
      throw new InteropError('REGISTRY', 'fatal', `cannot register schemas at ${o.registryUrl}: ${(cause as Error).message}`, { cause });
    }
    const schemaIds = new Map([...registered].map(([subject, r]) => [subject, r.id]));
    const admin = kafka.admin();
    let partitions: number;
    try {
      await admin.connect();
      partitions = await EventPublisher.partitionCount(admin, topics.events);
    } catch (cause) {
      throw new InteropError('KAFKA', 'fatal', `cannot reach Kafka at ${o.brokers.join(',')} or read topic ${topics.events}: ${(cause as Error).message}`, { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const producer = createProducer(kafka);
    await producer.connect();
    const id = (topic: string): number => {
      const v = schemaIds.get(valueSubject(topic));
      if (v === undefined) throw new InteropError('REGISTRY', 'fatal', `no schema registered for ${topic}`);
      return v;
    };
    return new KafkaContext(kafka, producer, registry, topics, schemaIds, new EventPublisher(producer, topics.events, id(topics.events), partitions, o.producerSigner), new DeadLetterWriter(producer, topics.deadLetters, id(topics.deadLetters), o.writerId));
  }

  schemaIdOf(topic: string): number {
    const v = this.schemaIds.get(valueSubject(topic));
    if (v === undefined) throw new InteropError('REGISTRY', 'fatal', `no schema registered for ${topic}`);
    return v;
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}
