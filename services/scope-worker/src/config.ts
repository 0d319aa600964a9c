import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * The worker's configuration, parsed once from the environment. Every variable is optional with
 * the default shown in README.md; a bad value fails the start with a message naming the variable.
 */
const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const Env = z.object({
  LIVESCOPE_KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  LIVESCOPE_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  LIVESCOPE_PG_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/livescope'),
  LIVESCOPE_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('livescope'),
  LIVESCOPE_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  LIVESCOPE_GROUP_ID: z.string().min(1).default('livescope-scope-worker'),
  LIVESCOPE_WORKER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  LIVESCOPE_SIGNING_KEY_ID: z.string().min(1).optional(),
  LIVESCOPE_SIGNING_KEY: z.string().min(1).optional(),
  LIVESCOPE_RELEASE_SIGNERS: z.string().default('{}'),
  LIVESCOPE_MAX_MESSAGE_BYTES: int(1024, 16 * 1024 * 1024).default(1024 * 1024),
  LIVESCOPE_HEARTBEAT_INTERVAL_MS: int(100, 60_000).default(1000),
  LIVESCOPE_TIMER_RESOLUTION_MS: int(10, 10_000).default(100),
  LIVESCOPE_METRICS_PORT: int(0, 65535).default(9464),
  LIVESCOPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIVESCOPE_PARTITIONS_CONCURRENTLY: int(1, 64).default(3),
  LIVESCOPE_MAX_BATCH_MESSAGES: int(1, 100_000).default(5000),
  LIVESCOPE_FETCH_MAX_BYTES: int(1024, 256 * 1024 * 1024).default(10 * 1024 * 1024),
  LIVESCOPE_STARTUP_TIMEOUT_MS: int(0, 3_600_000).default(120_000),
  LIVESCOPE_SESSION_TIMEOUT_MS: int(6000, 300_000).default(30_000),
  LIVESCOPE_EXCESS_PRIVILEGE_WINDOW_MS: int(60_000, 365 * 86_400_000).default(7 * 86_400_000),
  LIVESCOPE_MAX_FUTURE_SKEW_MS: int(0, 86_400_000).default(5 * 60_000),
  LIVESCOPE_SIGNING_THREADS: int(0, 64).default(1),
  LIVESCOPE_SIGNING_KEY_EPOCH: int(0, 1_000_000).default(1),
  LIVESCOPE_PRODUCER_KEYS: z.string().optional(),
  LIVESCOPE_PRODUCER_KEYS_FILE: z.string().min(1).optional(),
  LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS: int(1000, 86_400_000).default(5 * 60_000),
  LIVESCOPE_PARTITION_STUCK_MS: int(1000, 3_600_000).default(30_000),
  LIVESCOPE_AUDIT_HEAD_INTERVAL_MS: int(100, 3_600_000).default(10_000),
  LIVESCOPE_AUDIT_HEAD_MAX_SILENCE_MS: int(1000, 86_400_000).default(5 * 60_000),
});

export interface WorkerConfig {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly pgUrl: string;
  readonly pgSchema: string;
  readonly topicPrefix: string;
  readonly groupId: string;
  readonly workerId: string;
  readonly signingKeyId: string;
  readonly signingKey: string;
  /** Release managers allowed to sign release windows: name → Ed25519 public key (base64url raw or PEM). */
  readonly releaseSigners: Readonly<Record<string, string>>;
  readonly maxMessageBytes: number;
  readonly heartbeatIntervalMs: number;
  readonly timerResolutionMs: number;
  readonly metricsPort: number;
  readonly logLevel: string;
  readonly partitionsConsumedConcurrently: number;
  readonly maxBatchMessages: number;
  readonly fetchMaxBytes: number;
  readonly excessPrivilegeWindowMs: number;
  readonly maxFutureSkewMs: number;
  /** Consumer-group session timeout: how long a dead worker keeps its partitions. */
  readonly sessionTimeoutMs: number;
  /** How long start-up keeps retrying unavailable dependencies before giving up. */
  readonly startupTimeoutMs: number;
  /** Threads that sign a batch's commands (Ed25519); 0 signs on the main thread. Default 1. */
  readonly signingThreads: number;
  /** Epoch of the signing key, bound into every command signature (raise it with each key rotation). Default 1. */
  readonly signingKeyEpoch: number;
  /** The producer keyring (JSON, see docs/threat-model.md): key id → public key, event types, namespaces. */
  readonly producerKeys: string;
  /** Signed control events older than this (vs the broker's append time) are refused as replays. Default 5 min. */
  readonly maxControlEventAgeMs: number;
  /** A partition with input waiting that has not advanced for this long is stuck (metric, alert). Default 30 s. */
  readonly partitionStuckMs: number;
  /** How often changed audit chain heads are published, signed. Default 10 s. */
  readonly auditHeadIntervalMs: number;
  /** An unchanged head is published again after this long. Default 5 min. */
  readonly auditHeadMaxSilenceMs: number;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG';
}

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (!e.LIVESCOPE_SIGNING_KEY || !e.LIVESCOPE_SIGNING_KEY_ID) {
    throw new ConfigError('LIVESCOPE_SIGNING_KEY and LIVESCOPE_SIGNING_KEY_ID are required: commands are signed (Ed25519). `npm start` creates a development key pair; see docs/operations.md for production keys.');
  }
  let releaseSigners: Record<string, string>;
  try {
    releaseSigners = z.record(z.string(), z.string()).parse(JSON.parse(e.LIVESCOPE_RELEASE_SIGNERS));
  } catch {
    throw new ConfigError('LIVESCOPE_RELEASE_SIGNERS must be a JSON object of signer name → Ed25519 public key');
  }
  let producerKeys = e.LIVESCOPE_PRODUCER_KEYS ?? '{}';
  if (e.LIVESCOPE_PRODUCER_KEYS_FILE) {
    try {
      producerKeys = readFileSync(e.LIVESCOPE_PRODUCER_KEYS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`LIVESCOPE_PRODUCER_KEYS_FILE: cannot read ${e.LIVESCOPE_PRODUCER_KEYS_FILE}: ${(err as Error).message}`);
    }
  }
  return {
    brokers: e.LIVESCOPE_KAFKA_BROKERS,
    registryUrl: e.LIVESCOPE_REGISTRY_URL,
    pgUrl: e.LIVESCOPE_PG_URL,
    pgSchema: e.LIVESCOPE_PG_SCHEMA,
    topicPrefix: e.LIVESCOPE_TOPIC_PREFIX,
    groupId: e.LIVESCOPE_GROUP_ID,
    workerId: e.LIVESCOPE_WORKER_ID,
    signingKeyId: e.LIVESCOPE_SIGNING_KEY_ID,
    signingKey: e.LIVESCOPE_SIGNING_KEY,
    releaseSigners,
    maxMessageBytes: e.LIVESCOPE_MAX_MESSAGE_BYTES,
    heartbeatIntervalMs: e.LIVESCOPE_HEARTBEAT_INTERVAL_MS,
    timerResolutionMs: e.LIVESCOPE_TIMER_RESOLUTION_MS,
    metricsPort: e.LIVESCOPE_METRICS_PORT,
    logLevel: e.LIVESCOPE_LOG_LEVEL,
    partitionsConsumedConcurrently: e.LIVESCOPE_PARTITIONS_CONCURRENTLY,
    maxBatchMessages: e.LIVESCOPE_MAX_BATCH_MESSAGES,
    fetchMaxBytes: e.LIVESCOPE_FETCH_MAX_BYTES,
    excessPrivilegeWindowMs: e.LIVESCOPE_EXCESS_PRIVILEGE_WINDOW_MS,
    maxFutureSkewMs: e.LIVESCOPE_MAX_FUTURE_SKEW_MS,
    sessionTimeoutMs: e.LIVESCOPE_SESSION_TIMEOUT_MS,
    startupTimeoutMs: e.LIVESCOPE_STARTUP_TIMEOUT_MS,
    signingThreads: e.LIVESCOPE_SIGNING_THREADS,
    signingKeyEpoch: e.LIVESCOPE_SIGNING_KEY_EPOCH,
    producerKeys,
    maxControlEventAgeMs: e.LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS,
    partitionStuckMs: e.LIVESCOPE_PARTITION_STUCK_MS,
    auditHeadIntervalMs: e.LIVESCOPE_AUDIT_HEAD_INTERVAL_MS,
    auditHeadMaxSilenceMs: e.LIVESCOPE_AUDIT_HEAD_MAX_SILENCE_MS,
  };
}
