import { hostname } from 'node:os';
import { commonOptions, ConfigError, int, json, loadConfig, option, type ConfigOf, type Env } from '@livescope/runtime';
import { z } from 'zod';

export { ConfigError };

/**
 * The worker's configuration: every option written once, here and in @livescope/runtime's shared
 * fragment (Kafka with TLS and SASL, registry, PostgreSQL, topic prefix, log level). README.md's
 * configuration table is rendered from it (`npm run docs:config`; a unit test keeps it in step).
 */
export const workerOptions = {
  ...commonOptions,
  groupId: option('LIVESCOPE_GROUP_ID', z.string().min(1).default('livescope-scope-worker'), { doc: 'consumer group of the workers', unit: 'name' }),
  workerId: option('LIVESCOPE_WORKER_ID', z.string().min(1).default(`${hostname()}-${process.pid}`), {
    doc: "this worker's name in logs, heartbeats and the partition owner column",
    unit: 'name',
    defaultDoc: '`<hostname>-<pid>`',
  }),
  signingKeyId: option('LIVESCOPE_SIGNING_KEY_ID', z.string().min(1).optional(), { doc: 'key id of the command signing key (in every signature header)', unit: 'name', defaultDoc: '(required)' }),
  signingKey: option('LIVESCOPE_SIGNING_KEY', z.string().min(1).optional(), {
    doc: 'Ed25519 key that signs commands: base64url raw 32-byte seed, or PKCS#8 PEM',
    unit: 'secret',
    defaultDoc: '(required)',
    secret: true,
  }),
  releaseSigners: option('LIVESCOPE_RELEASE_SIGNERS', json(z.record(z.string(), z.string())).default({}), {
    doc: 'release manager name → Ed25519 public key (base64url raw or PEM) allowed to sign release windows',
    unit: 'JSON',
    fromFile: true,
  }),
  maxMessageBytes: option('LIVESCOPE_MAX_MESSAGE_BYTES', int(1024, 16 * 1024 * 1024).default(1024 * 1024), { doc: 'larger input is dead-lettered (`oversized`)', unit: 'bytes' }),
  maxFutureSkewMs: option('LIVESCOPE_MAX_FUTURE_SKEW_MS', int(0, 86_400_000).default(5 * 60_000), { doc: 'events timed further after their message timestamp are dead-lettered', unit: 'ms' }),
  heartbeatIntervalMs: option('LIVESCOPE_HEARTBEAT_INTERVAL_MS', int(100, 60_000).default(1000), { doc: 'per-partition heartbeats that enforcers use for staleness', unit: 'ms' }),
  timerResolutionMs: option('LIVESCOPE_TIMER_RESOLUTION_MS', int(10, 10_000).default(100), { doc: 'how often due timers (validUntil, expiries) are checked', unit: 'ms' }),
  partitionLoad: option('LIVESCOPE_PARTITION_LOAD', z.enum(['background', 'eager']).default('background'), {
    doc: 'how an assigned partition loads its identities from PostgreSQL: `background` processes as soon as its offset, org-wide state and due timers are loaded, fetching the identities a batch reads on demand and the rest in the background (a broadcast waits for all of them); `eager` loads every identity first',
    unit: 'mode',
  }),
  partitionsConsumedConcurrently: option('LIVESCOPE_PARTITIONS_CONCURRENTLY', int(1, 64).default(3), { doc: 'partitions a worker processes at once', unit: 'partitions' }),
  snapshotIntervalMs: option('LIVESCOPE_SNAPSHOT_INTERVAL_MS', int(0, 600_000).default(10_000), {
    doc: "an identity's scope snapshot is produced at most once per this period, this long after the change that made it due (changes carry the full scope); the snapshot topic lags the change topic by up to this much, so keep enforcers' `changesLookbackMs` above it (`0` = a snapshot with every change)",
    unit: 'ms',
  }),
  maxBatchMessages: option('LIVESCOPE_MAX_BATCH_MESSAGES', int(1, 100_000).default(5000), { doc: 'most messages applied per PostgreSQL commit', unit: 'messages' }),
  fetchMaxBytes: option('LIVESCOPE_FETCH_MAX_BYTES', int(1024, 256 * 1024 * 1024).default(10 * 1024 * 1024), { doc: 'Kafka fetch size', unit: 'bytes' }),
  startupTimeoutMs: option('LIVESCOPE_STARTUP_TIMEOUT_MS', int(0, 3_600_000).default(120_000), { doc: 'how long start-up retries an unavailable broker, registry or PostgreSQL before giving up', unit: 'ms' }),
  sessionTimeoutMs: option('LIVESCOPE_SESSION_TIMEOUT_MS', int(6000, 300_000).default(30_000), { doc: 'consumer-group session timeout: how long a crashed worker keeps its partitions', unit: 'ms' }),
  excessPrivilegeWindowMs: option('LIVESCOPE_EXCESS_PRIVILEGE_WINDOW_MS', int(60_000, 365 * 86_400_000).default(7 * 86_400_000), { doc: 'a provisioned permission unused this long raises an `excess-privilege` alert', unit: 'ms' }),
  metricsPort: option('LIVESCOPE_METRICS_PORT', int(0, 65535).default(9464), { doc: 'Prometheus `/metrics`, `/healthz`, `/readyz` on `LIVESCOPE_METRICS_HOST` (`0` = off)', unit: 'port' }),
  metricsHost: option('LIVESCOPE_METRICS_HOST', z.string().regex(/^[A-Za-z0-9.:_-]+$/, 'an IP address or a host name').default('127.0.0.1'), {
    doc: 'interface of `/metrics`, `/healthz`, `/readyz`: `0.0.0.0` (or `::`) in a container, so that probes and scrapers reach them',
    unit: 'address',
  }),
  signingKeyEpoch: option('LIVESCOPE_SIGNING_KEY_EPOCH', int(0, 1_000_000).default(1), { doc: 'epoch of the signing key, bound into every command signature; raise it with each key rotation (enforcers can refuse older epochs)', unit: 'epoch' }),
  producerKeys: option('LIVESCOPE_PRODUCER_KEYS', z.string().default('{}'), {
    doc: 'producer keyring: key id → `{ publicKey, eventTypes, namespaces? }`; control events are applied only when signed by a key allowed to send them (docs/threat-model.md)',
    unit: 'JSON',
    fromFile: true,
  }),
  maxControlEventAgeMs: option('LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS', int(1000, 86_400_000).default(5 * 60_000), { doc: "a signed control event older than this, against the broker's append time, is refused as a replay (`stale-control-event`)", unit: 'ms' }),
  partitionStuckMs: option('LIVESCOPE_PARTITION_STUCK_MS', int(1000, 3_600_000).default(30_000), { doc: 'a partition with input waiting that has not advanced for this long is stuck: `livescope_partition_stuck` and a `partition-stuck` alert', unit: 'ms' }),
  auditHeadIntervalMs: option('LIVESCOPE_AUDIT_HEAD_INTERVAL_MS', int(100, 3_600_000).default(10_000), { doc: 'how often changed audit chain heads are published, signed, to the audit heads topic', unit: 'ms' }),
  auditHeadMaxSilenceMs: option('LIVESCOPE_AUDIT_HEAD_MAX_SILENCE_MS', int(1000, 86_400_000).default(5 * 60_000), { doc: 'an unchanged audit chain head is published again after this long', unit: 'ms' }),
} as const;

/** The parsed configuration; the signing key is present (checked) and non-enumerable. */
export type WorkerConfig = Omit<ConfigOf<typeof workerOptions>, 'signingKeyId' | 'signingKey'> & { readonly signingKeyId: string; readonly signingKey: string };

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const c = loadConfig(workerOptions, env);
  if (c.signingKey === undefined || c.signingKeyId === undefined) {
    const missing = [...(c.signingKey === undefined ? ['LIVESCOPE_SIGNING_KEY'] : []), ...(c.signingKeyId === undefined ? ['LIVESCOPE_SIGNING_KEY_ID'] : [])];
    throw new ConfigError(
      'LIVESCOPE_SIGNING_KEY (or LIVESCOPE_SIGNING_KEY_FILE) and LIVESCOPE_SIGNING_KEY_ID are required: commands are signed (Ed25519). `npm start` creates a development key pair; see docs/operations.md for production keys.',
      missing,
    );
  }
  return c as WorkerConfig;
}
