import { readFileSync } from 'node:fs';
import { Kafka, logLevel, Partitioners, type KafkaConfig, type LogEntry, type Producer, type ProducerConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { TransportError } from './TransportError.js';

/** TLS to the brokers. Present (even empty) means TLS; files are PEM. */
export interface KafkaSslOptions {
  /** CA(s) that signed the brokers' certificates. Default: the system's trusted CAs. */
  readonly caFile?: string;
  /** Client certificate (chain) for brokers that require TLS client authentication; with `keyFile`. */
  readonly certFile?: string;
  /** Unencrypted private key of `certFile`. */
  readonly keyFile?: string;
  /** Server name (SNI) the brokers' certificates must carry. Default: each broker's host. */
  readonly servername?: string;
}

/** SASL authentication. The password is read where it is (a non-enumerable field stays hidden). */
export interface KafkaSaslOptions {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** How to reach and authenticate to a cluster; `ssl` and `sasl` absent: plaintext, anonymous. */
export interface KafkaSecurityOptions {
  readonly ssl?: KafkaSslOptions;
  readonly sasl?: KafkaSaslOptions;
}

export interface KafkaOptions extends KafkaSecurityOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** Connection timeout (ms). Default 3000; 10000 with TLS or SASL (two more round trips). */
  readonly connectionTimeoutMs?: number;
  /** Request timeout (ms). Default 30000. */
  readonly requestTimeoutMs?: number;
}

/**
 * The kafkajs `ssl` and `sasl` settings of `options`, the PEM files read now (a missing file fails
 * here, naming it, rather than at the first connection).
 */
export function kafkaSecurityConfig(options: KafkaSecurityOptions): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new TransportError('CLIENT_CONFIG', 'fatal', `cannot read the Kafka TLS ${what} file ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
    }
  };
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const s = options.ssl;
  if (s) {
    if ((s.certFile === undefined) !== (s.keyFile === undefined)) throw new TransportError('CLIENT_CONFIG', 'fatal', 'a Kafka TLS client certificate needs both certFile and keyFile');
    out.ssl = {
      rejectUnauthorized: true,
      ...(s.caFile === undefined ? {} : { ca: [read('CA', s.caFile)] }),
      ...(s.certFile === undefined ? {} : { cert: read('certificate', s.certFile) }),
      ...(s.keyFile === undefined ? {} : { key: read('key', s.keyFile) }),
      ...(s.servername === undefined ? {} : { servername: s.servername }),
    };
  }
  const a = options.sasl;
  if (a) {
    // Built field by field: a spread would drop a non-enumerable password.
    out.sasl = { mechanism: a.mechanism, username: a.username, password: a.password } as SASLOptions;
  }
  return out;
}

const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs with its logs routed into pino (as `kafkajs` child lines), TLS and SASL as given, and sane timeouts. */
export function createKafka(options: KafkaOptions, extra: Partial<KafkaConfig> = {}): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  const security = kafkaSecurityConfig(options);
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...security,
    connectionTimeout: options.connectionTimeoutMs ?? (security.ssl || security.sasl ? 10_000 : 3000),
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
