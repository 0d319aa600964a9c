import { Kafka, logLevel, Partitioners, type KafkaConfig, type LogEntry, type Producer, type ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** Connection timeout (ms). Default 3000. */
  readonly connectionTimeoutMs?: number;
  /** Request timeout (ms). Default 30000. */
  readonly requestTimeoutMs?: number;
}

const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs with its logs routed into pino (as `kafkajs` child lines), and sane timeouts. */
export function createKafka(options: KafkaOptions, extra: Partial<KafkaConfig> = {}): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, timestamp: _ts, logger: _l, ...rest } = entry;
        log[levelName[level] ?? 'info']({ namespace, ...rest }, message);
      },
    ...extra,
  });
}

/**
 * An idempotent producer with acks=all: a send resolves only when the write is durable, and a
 * retried send never duplicates. Keys are hashed with the Java client's murmur2 partitioner so
 * every producer (Java, kafkajs) puts an identity on the same partition.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  // Idempotence needs unbounded retries (kafkajs warns otherwise); callers bound the wait themselves.
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
    ...config,
  });
}
