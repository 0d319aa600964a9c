import { randomUUID } from 'node:crypto';
import { subjectSpecsFor, topicNames, valueSubject, type LivescopeEventInput, type TopicNames } from '@livescope/contracts';
import { Store } from '@livescope/store';
import { createKafka, createLogger, createProducer, ensureTopics, EventPublisher, generateSigningKeyPair, ProducerSigner, SchemaRegistryClient, type Logger } from '@livescope/transport';
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { TopicTail } from './TopicTail.js';

/** Where the shared test infrastructure runs (the project's infra scripts start it). */
export const testEnv = {
  brokers: (process.env.LIVESCOPE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  registryUrl: process.env.LIVESCOPE_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
  pgUrl: process.env.LIVESCOPE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/livescope',
};

/**
 * An isolated pipeline on the shared infrastructure: its own topic prefix, PostgreSQL schema,
 * consumer group and signing key. Everything it creates is removed by `close()`.
 */
export class PipelineFixture {
  readonly id = randomUUID().slice(0, 8);
  readonly prefix = `t${this.id}.`;
  readonly schema = `t_${this.id}`;
  readonly groupId = `t${this.id}-workers`;
  readonly topics: TopicNames = topicNames(this.prefix);
  readonly keys = generateSigningKeyPair(`k-${this.id}`);
  /**
   * The producer key of the test's trusted producer (provisioning, control plane, session issuer):
   * allowed to send every event type. `publish` signs with it; `publishUnsigned` does not.
   */
  readonly producerKeys = generateSigningKeyPair(`p-${this.id}`);
  readonly logger: Logger = createLogger('test', process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'error');
  readonly kafka: Kafka;
  readonly registry = new SchemaRegistryClient(testEnv.registryUrl);
  admin!: Admin;
  producer!: Producer;
  publisher!: EventPublisher;
  /** Writes events without a producer signature: observations, as an ingest adapter or a sidecar would. */
  unsignedPublisher!: EventPublisher;
  eventsSchemaId = 0;
  private tails: TopicTail[] = [];
  private stores: Store[] = [];

  constructor(readonly partitions = 3) {
    this.kafka = createKafka({ brokers: testEnv.brokers, clientId: `test-${this.id}`, logger: this.logger });
  }

  async open(): Promise<this> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await ensureTopics(this.admin, { prefix: this.prefix, partitions: this.partitions });
    const ids = await this.registry.registerAll(subjectSpecsFor(this.prefix));
    this.producer = createProducer(this.kafka);
    await this.producer.connect();
    this.eventsSchemaId = ids.get(valueSubject(this.topics.events))!.id;
    this.publisher = new EventPublisher(this.producer, this.topics.events, this.eventsSchemaId, this.partitions, ProducerSigner.fromConfig(this.producerKeys.kid, this.producerKeys.privateKey));
    this.unsignedPublisher = new EventPublisher(this.producer, this.topics.events, this.eventsSchemaId, this.partitions);
    return this;
  }

  /** Environment for a worker (or any service) on this pipeline. */
  workerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','),
      LIVESCOPE_REGISTRY_URL: testEnv.registryUrl,
      LIVESCOPE_PG_URL: testEnv.pgUrl,
      LIVESCOPE_PG_SCHEMA: this.schema,
      LIVESCOPE_TOPIC_PREFIX: this.prefix,
      LIVESCOPE_GROUP_ID: this.groupId,
      LIVESCOPE_SIGNING_KEY_ID: this.keys.kid,
      LIVESCOPE_SIGNING_KEY: this.keys.privateKey,
      LIVESCOPE_PRODUCER_KEYS: this.producerKeyring(),
      LIVESCOPE_METRICS_PORT: '0',
      LIVESCOPE_LOG_LEVEL: process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'error',
      ...extra,
    };
  }

  /** The workers' producer keyring: this fixture's producer key, allowed every event type (plus `extra` keys). */
  producerKeyring(extra: Record<string, { publicKey: string; eventTypes: string[]; namespaces?: string[] }> = {}): string {
    return JSON.stringify({ [this.producerKeys.kid]: { publicKey: this.producerKeys.publicKey, eventTypes: ['*'] }, ...extra });
  }

  /**
   * Publishes events signed by the fixture's trusted producer key. The broker stamps each message
   * with its append time (the events topic uses LogAppendTime), whatever `timestampMs` says.
   */
  async publish(events: readonly LivescopeEventInput[], timestampMs?: number): Promise<void> {
    await this.publisher.publish(events, timestampMs);
  }

  /** The producer-signature headers of a raw message on the events topic, as the trusted producer signs it. */
  producerHeaders(key: string | null, value: Buffer): IHeaders {
    return ProducerSigner.fromConfig(this.producerKeys.kid, this.producerKeys.privateKey).headers(this.topics.events, key, value);
  }

  /** Publishes events with no producer signature (observations). */
  async publishUnsigned(events: readonly LivescopeEventInput[]): Promise<void> {
    await this.unsignedPublisher.publish(events);
  }

  async tail(topics: readonly (keyof TopicNames)[]): Promise<TopicTail> {
    const t = await new TopicTail(this.kafka, topics.map((k) => this.topics[k])).start();
    this.tails.push(t);
    return t;
  }

  async store(): Promise<Store> {
    const s = await Store.open({ connectionString: testEnv.pgUrl, schema: this.schema });
    this.stores.push(s);
    return s;
  }

  async close(): Promise<void> {
    for (const t of this.tails) await t.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    const s = await Store.open({ connectionString: testEnv.pgUrl, schema: this.schema }).catch(() => undefined);
    await s?.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`, [], 'drop test schema').catch(() => undefined);
    await s?.close();
    for (const st of this.stores) await st.close().catch(() => undefined);
    const mine = (await this.admin.listTopics()).filter((t) => t.startsWith(this.prefix));
    if (mine.length > 0) await this.admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await this.admin.disconnect();
    // The registry keeps every subject it was ever given: remove this fixture's (soft, then for good),
    // so that a long-lived registry does not collect thousands of test subjects.
    for (const topic of mine) {
      const subject = `${testEnv.registryUrl}/subjects/${encodeURIComponent(`${topic}-value`)}`;
      for (const url of [subject, `${subject}?permanent=true`]) await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    }
  }
}
