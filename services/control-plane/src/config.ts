import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseTrustedKeys, type TrustedTokenKey } from './auth/verifyKeys.js';

/**
 * The control plane's configuration, parsed once from the environment. Every variable is optional
 * with the default shown in docs/api.md, except the token keys: one of
 * `LIVESCOPE_API_JWT_PUBLIC_KEYS` or `LIVESCOPE_API_JWKS_URL` (or, for development only,
 * `LIVESCOPE_DEV_KEYS`). A bad value fails the start with a message naming the variable.
 */
const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const Env = z.object({
  LIVESCOPE_API_HOST: z.string().min(1).default('127.0.0.1'),
  LIVESCOPE_API_PORT: int(0, 65535).default(8787),
  LIVESCOPE_KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  LIVESCOPE_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  LIVESCOPE_PG_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/livescope'),
  LIVESCOPE_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('livescope'),
  LIVESCOPE_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  LIVESCOPE_API_GROUP_ID: z.string().min(1).default('livescope-control-plane'),
  LIVESCOPE_API_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  LIVESCOPE_API_JWT_PUBLIC_KEYS: z.string().optional(),
  LIVESCOPE_API_JWKS_URL: z.url().optional(),
  LIVESCOPE_API_JWT_ISSUER: z.string().min(1).default('livescope'),
  LIVESCOPE_API_JWT_AUDIENCE: z.string().min(1).default('livescope-api'),
  LIVESCOPE_API_JWT_CLOCK_TOLERANCE_MS: int(0, 300_000).default(30_000),
  LIVESCOPE_DEV_KEYS: z.string().min(1).optional(),
  LIVESCOPE_API_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(600),
  LIVESCOPE_API_TRACKING_WINDOW_MS: int(0, 7 * 86_400_000).default(3_600_000),
  LIVESCOPE_API_ENFORCER_LIVENESS_MS: int(1000, 7 * 86_400_000).default(600_000),
  LIVESCOPE_API_MAX_WAIT_MS: int(0, 600_000).default(60_000),
  LIVESCOPE_API_SSE_MAX_MS: int(1000, 86_400_000).default(3_600_000),
  LIVESCOPE_API_SSE_POLL_MS: int(50, 60_000).default(1000),
  LIVESCOPE_API_MAX_TTL_MS: int(1000, 365 * 86_400_000).default(30 * 86_400_000),
  LIVESCOPE_API_PUBLISH_TIMEOUT_MS: int(100, 300_000).default(15_000),
  LIVESCOPE_CONSOLE_DIR: z.string().min(1).optional(),
  LIVESCOPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIVESCOPE_API_PERSON_CLAIM: z.string().regex(/^[A-Za-z0-9_:.-]+=.+$/, 'must be claim=value').default('kind=human'),
  LIVESCOPE_PRODUCER_KEY_ID: z.string().min(1).max(128).optional(),
  LIVESCOPE_PRODUCER_KEY: z.string().min(1).optional(),
  LIVESCOPE_PRODUCER_KEY_FILE: z.string().min(1).optional(),
});

export interface ControlPlaneConfig {
  /** Interface the HTTP API binds; loopback by default. */
  readonly host: string;
  /** HTTP port; 0 picks a free one (tests). */
  readonly port: number;
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly pgUrl: string;
  readonly pgSchema: string;
  readonly topicPrefix: string;
  /** Consumer group for the alerts and acknowledgements this control plane stores. */
  readonly groupId: string;
  readonly instanceId: string;
  readonly jwt: {
    readonly keys: readonly TrustedTokenKey[];
    readonly jwksUrl: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly clockToleranceMs: number;
    /** The claim (`name=value`) that marks a person; only persons approve escalations. Default `kind=human`. */
    readonly personClaim: { readonly name: string; readonly value: string };
  };
  /**
   * The control plane's producer key: every event it publishes (orders, lifts, approvals) is signed
   * with it, and the workers' keyring says which event types it may send. Required.
   */
  readonly producerKey: { readonly keyId: string; readonly privateKey: string };
  /** Development only: the key file `npm start` writes; its `api` key is trusted when no other key is configured. */
  readonly devKeysPath: string | undefined;
  readonly rateLimitPerMinute: number;
  /** How far back the order tracker re-reads commands and acknowledgements on start. */
  readonly trackingWindowMs: number;
  /** An enforcement point silent for longer is no longer counted as known. */
  readonly enforcerLivenessMs: number;
  /** Upper bound of a long-poll (`?waitMs=`). */
  readonly maxWaitMs: number;
  /** A Server-Sent Events stream is closed after this long (clients resume with Last-Event-ID). */
  readonly sseMaxMs: number;
  /** How often an SSE stream looks for alerts stored by other instances. */
  readonly ssePollMs: number;
  /** Longest TTL of an order or approval. */
  readonly maxTtlMs: number;
  /** Longest wait for Kafka to confirm an order durable before answering 503 (the write may still land). */
  readonly publishTimeoutMs: number;
  /** Built web console to serve under /console/; default: the `dist` of the installed @livescope/console. */
  readonly consoleDir: string | undefined;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG';
}

export function loadControlPlaneConfig(env: Record<string, string | undefined> = process.env): ControlPlaneConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  let keys: TrustedTokenKey[] = [];
  if (e.LIVESCOPE_API_JWT_PUBLIC_KEYS !== undefined && e.LIVESCOPE_API_JWT_PUBLIC_KEYS.trim() !== '') {
    try {
      keys = parseTrustedKeys(e.LIVESCOPE_API_JWT_PUBLIC_KEYS);
    } catch (err) {
      throw new ConfigError(`LIVESCOPE_API_JWT_PUBLIC_KEYS: ${(err as Error).message}`);
    }
  }
  if (keys.length === 0 && e.LIVESCOPE_API_JWKS_URL === undefined && e.LIVESCOPE_DEV_KEYS === undefined) {
    throw new ConfigError(
      'LIVESCOPE_API_JWT_PUBLIC_KEYS (JSON: key id → public key) or LIVESCOPE_API_JWKS_URL is required: every API call carries a bearer JWT. For development, LIVESCOPE_DEV_KEYS (set by `npm start`) trusts a local key pair.',
    );
  }
  return {
    host: e.LIVESCOPE_API_HOST,
    port: e.LIVESCOPE_API_PORT,
    brokers: e.LIVESCOPE_KAFKA_BROKERS,
    registryUrl: e.LIVESCOPE_REGISTRY_URL,
    pgUrl: e.LIVESCOPE_PG_URL,
    pgSchema: e.LIVESCOPE_PG_SCHEMA,
    topicPrefix: e.LIVESCOPE_TOPIC_PREFIX,
    groupId: e.LIVESCOPE_API_GROUP_ID,
    instanceId: e.LIVESCOPE_API_INSTANCE_ID,
    jwt: {
      keys,
      jwksUrl: e.LIVESCOPE_API_JWKS_URL,
      issuer: e.LIVESCOPE_API_JWT_ISSUER,
      audience: e.LIVESCOPE_API_JWT_AUDIENCE,
      clockToleranceMs: e.LIVESCOPE_API_JWT_CLOCK_TOLERANCE_MS,
      personClaim: { name: e.LIVESCOPE_API_PERSON_CLAIM.slice(0, e.LIVESCOPE_API_PERSON_CLAIM.indexOf('=')), value: e.LIVESCOPE_API_PERSON_CLAIM.slice(e.LIVESCOPE_API_PERSON_CLAIM.indexOf('=') + 1) },
    },
    producerKey: producerKeyOf(e),
    devKeysPath: keys.length === 0 && e.LIVESCOPE_API_JWKS_URL === undefined ? e.LIVESCOPE_DEV_KEYS : undefined,
    rateLimitPerMinute: e.LIVESCOPE_API_RATE_LIMIT_PER_MINUTE,
    trackingWindowMs: e.LIVESCOPE_API_TRACKING_WINDOW_MS,
    enforcerLivenessMs: e.LIVESCOPE_API_ENFORCER_LIVENESS_MS,
    maxWaitMs: e.LIVESCOPE_API_MAX_WAIT_MS,
    sseMaxMs: e.LIVESCOPE_API_SSE_MAX_MS,
    ssePollMs: e.LIVESCOPE_API_SSE_POLL_MS,
    maxTtlMs: e.LIVESCOPE_API_MAX_TTL_MS,
    publishTimeoutMs: e.LIVESCOPE_API_PUBLISH_TIMEOUT_MS,
    consoleDir: e.LIVESCOPE_CONSOLE_DIR,
    logLevel: e.LIVESCOPE_LOG_LEVEL,
  };
}

/** The producer key from LIVESCOPE_PRODUCER_KEY_ID and LIVESCOPE_PRODUCER_KEY (or its _FILE). */
function producerKeyOf(e: { LIVESCOPE_PRODUCER_KEY_ID?: string | undefined; LIVESCOPE_PRODUCER_KEY?: string | undefined; LIVESCOPE_PRODUCER_KEY_FILE?: string | undefined }): { keyId: string; privateKey: string } {
  let key = e.LIVESCOPE_PRODUCER_KEY;
  if (e.LIVESCOPE_PRODUCER_KEY_FILE !== undefined) {
    try {
      key = readFileSync(e.LIVESCOPE_PRODUCER_KEY_FILE, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`LIVESCOPE_PRODUCER_KEY_FILE: cannot read ${e.LIVESCOPE_PRODUCER_KEY_FILE}: ${(err as Error).message}`);
    }
  }
  if (e.LIVESCOPE_PRODUCER_KEY_ID === undefined || key === undefined) {
    throw new ConfigError('LIVESCOPE_PRODUCER_KEY_ID and LIVESCOPE_PRODUCER_KEY (or LIVESCOPE_PRODUCER_KEY_FILE) are required: the control plane signs the orders, lifts and approvals it publishes, and the workers apply control events only from producer keys in their keyring (LIVESCOPE_PRODUCER_KEYS). `npm start` creates a development key; see docs/threat-model.md.');
  }
  return { keyId: e.LIVESCOPE_PRODUCER_KEY_ID, privateKey: key };
}
