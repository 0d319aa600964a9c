import { hostname } from 'node:os';
import { bool, commonOptions, ConfigError, csv, int, json, kafkaOptions, loadConfig, logLevelOption, option, registryOptions, reshapeConfig, topicPrefixOption, type ConfigOf, type Env } from '@livescope/runtime';
import { ProducerSigner } from '@livescope/transport';
import { z } from 'zod';
import { producerIdentity, type ProducerIdentity } from './producerIdentity.js';
import { resolveSecretFiles, type SecretResolved } from './secretFile.js';

export { ConfigError };

export const KeyConfigSchema = z.strictObject({
  kid: z.string().min(1),
  alg: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']),
  privateKey: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  publicKey: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
});

export const ReceiverClientSchema = z.strictObject({
  /** Who the stream belongs to. */
  clientId: z.string().min(1).max(128),
  /** Bearer token the receiver presents to the stream-management endpoints (at least 16 characters). */
  token: z.string().min(16),
  /** `aud` of the SETs of this client's streams. */
  audience: z.string().min(1),
});
export type ReceiverClient = z.infer<typeof ReceiverClientSchema>;

export const TrustedIssuerSchema = z.strictObject({
  issuer: z.string().min(1),
  /** Audience values this receiver accepts from that issuer. */
  audience: z.array(z.string().min(1)).min(1),
  /** The issuer's keys: inline JWKS, or its URL (fetched and cached). One of the two. */
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  jwksUri: z.url().optional(),
  /** Expected `Authorization` header of its pushes (what the stream's `authorization_header` was set to). */
  authorization: z.string().min(16).optional(),
  identityTemplate: z.string().min(1).default('{value}'),
  sessionTemplate: z.string().min(1).default('{value}'),
  riskScores: z.record(z.string(), z.number().int().min(0).max(100)).default({ low: 20, medium: 50, high: 90 }),
  anomalyTtlMs: z.number().int().min(1000).default(24 * 3_600_000),
});
export type TrustedIssuerConfig = z.infer<typeof TrustedIssuerSchema>;

/** A receiver that authenticates with the OAuth 2.0 client-credentials grant at `/ssf/oauth/token`. */
export const OAuthClientSchema = z.strictObject({
  clientId: z.string().min(1).max(128),
  /** The client secret (at least 16 characters), or `clientSecretFile` naming a file that holds it (read at start). */
  clientSecret: z.string().min(1).optional(),
  clientSecretFile: z.string().min(1).optional(),
  /** `aud` of the SETs of this client's streams. */
  audience: z.string().min(1),
});
/** An OAuth client as configured: its secret read from `clientSecretFile` when given there. */
export type OAuthClientConfig = SecretResolved<z.infer<typeof OAuthClientSchema>> & { readonly clientSecret: string };

const OAuthClients = z
  .array(OAuthClientSchema)
  .transform(resolveSecretFiles((c) => `client ${c.clientId}`, { minLength: 16, required: true }))
  // Every entry has a secret once resolved (`required`); an entry that had none was reported.
  .transform((clients) => clients as OAuthClientConfig[]);

/** A transmitter this receiver polls (RFC 8936) through a stream it manages with the SSF 1.0 API. */
export const PollStreamSchema = z.strictObject({
  /** The transmitter's issuer; its metadata is read from `/.well-known/ssf-configuration`. */
  transmitter: z.url(),
  /**
   * OAuth 2.0 client credentials (token endpoint from `tokenEndpoint`, else the transmitter's
   * `/.well-known/oauth-authorization-server`); the secret inline or in `clientSecretFile` (read at start).
   */
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  clientSecretFile: z.string().min(1).optional(),
  tokenEndpoint: z.url().optional(),
  scope: z.string().min(1).optional(),
  /** A static bearer token instead of client credentials. */
  bearerToken: z.string().min(16).optional(),
  /** The `aud` the stream's SETs must carry. */
  audience: z.string().min(1),
  eventsRequested: z.array(z.string().min(1)).min(1).optional(),
  description: z.string().max(1024).default('livescope poll receiver'),
  maxEvents: z.number().int().min(1).max(1000).default(100),
  /** Pause after a failed poll (ms). */
  retryMs: z.number().int().min(10).max(600_000).default(2000),
  identityTemplate: z.string().min(1).default('{value}'),
  sessionTemplate: z.string().min(1).default('{value}'),
  riskScores: z.record(z.string(), z.number().int().min(0).max(100)).default({ low: 20, medium: 50, high: 90 }),
  anomalyTtlMs: z.number().int().min(1000).default(24 * 3_600_000),
});
/** A poll stream as configured: its client secret read from `clientSecretFile` when given there. */
export type PollStreamConfig = SecretResolved<z.infer<typeof PollStreamSchema>>;

const PollStreams = z
  .array(PollStreamSchema)
  .transform(resolveSecretFiles((p) => `transmitter ${p.transmitter}`, { minLength: 1, required: false }))
  .check((ctx) => {
    ctx.value.forEach((p, i) => {
      if (p.bearerToken === undefined && (p.clientId === undefined || p.clientSecret === undefined)) {
        ctx.issues.push({ code: 'custom', input: p, path: [i], message: `transmitter ${p.transmitter}: give bearerToken, or clientId and clientSecret (or clientSecretFile)` });
      }
    });
  });

/**
 * The producer key of a process that publishes input events (`livescope-ingest`, the SET receiver):
 * it signs everything published, and the event types say which control events the operator granted
 * it in the workers' keyring (`LIVESCOPE_PRODUCER_KEYS`), so the others are withheld instead of sent
 * to be refused. Without a key every event is an unsigned observation and no control event is sent.
 */
export const producerOptions = {
  producerKeyId: option('LIVESCOPE_PRODUCER_KEY_ID', z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters, no spaces').optional(), {
    doc: "id of the producer key in the workers' keyring (`LIVESCOPE_PRODUCER_KEYS`); required with `LIVESCOPE_PRODUCER_KEY`",
    unit: 'name',
    check: (v, c) =>
      v === undefined && c.producerKey !== undefined
        ? "is required with LIVESCOPE_PRODUCER_KEY: the key id the workers' keyring (LIVESCOPE_PRODUCER_KEYS) knows it by"
        : v !== undefined && c.producerKey === undefined
          ? 'is set without LIVESCOPE_PRODUCER_KEY or LIVESCOPE_PRODUCER_KEY_FILE'
          : undefined,
  }),
  producerKey: option('LIVESCOPE_PRODUCER_KEY', z.string().min(1).optional(), {
    doc: 'Ed25519 private key (base64url raw 32-byte seed, or PKCS#8 PEM) that signs every event published; unset: events are unsigned observations and control events are withheld',
    unit: 'secret',
    secret: true,
    check: (v, c) => (v === undefined ? undefined : ed25519KeyProblem(typeof c.producerKeyId === 'string' ? c.producerKeyId : 'producer', v)),
  }),
  producerEventTypes: option('LIVESCOPE_PRODUCER_EVENT_TYPES', csv.default(['*']), {
    doc: "control event types the keyring grants the key (`entitlement.*,identity.deleted`, `*`): the others are withheld rather than sent to be refused",
    unit: 'list',
  }),
} as const;

/** Why `material` is not an Ed25519 private key, or undefined. Never quotes the key. */
function ed25519KeyProblem(kid: string, material: string): string | undefined {
  let type: string | undefined;
  try {
    type = ProducerSigner.fromConfig(kid, material).key.privateKey.asymmetricKeyType;
  } catch (e) {
    return `not an Ed25519 private key (base64url raw 32-byte seed, or PKCS#8 PEM): ${(e as Error).message}`;
  }
  return type === 'ed25519' ? undefined : `not an Ed25519 private key (base64url raw 32-byte seed, or PKCS#8 PEM): a ${type ?? 'unknown'} key`;
}

export type Feature = 'transmitter' | 'receiver' | 'ocsf';
const FEATURES: readonly Feature[] = ['transmitter', 'receiver', 'ocsf'];

/**
 * Configuration of `livescope-interop`: every option written once, here and in
 * @livescope/runtime's shared fragment. Secrets (SET signing keys, receiver tokens, trusted
 * issuers' push authorizations, the SIEM webhook authorization) may come from `<VARIABLE>_FILE` and
 * never appear in logs. docs/caep.md's table is rendered from it (`npm run docs:config`).
 */
export const interopOptions = {
  ...commonOptions,
  instanceId: option('LIVESCOPE_INTEROP_ID', z.string().min(1).default(`interop-${hostname()}-${process.pid}`), { doc: 'this instance in logs and dead letters', unit: 'name', defaultDoc: '`interop-<hostname>-<pid>`' }),
  host: option('LIVESCOPE_INTEROP_HOST', z.string().min(1).default('127.0.0.1'), { doc: 'interface the HTTP endpoints bind', unit: 'address' }),
  port: option('LIVESCOPE_INTEROP_PORT', int(0, 65535).default(8470), { doc: 'HTTP port (`0` = any free port)', unit: 'port' }),
  features: option(
    'LIVESCOPE_INTEROP_ENABLE',
    csv
      .pipe(z.array(z.string()))
      .transform((list, ctx): ReadonlySet<Feature> => {
        const unknown = list.filter((f) => !(FEATURES as readonly string[]).includes(f));
        if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown feature ${unknown.join(', ')} (transmitter, receiver, ocsf)` });
        return new Set(list as Feature[]);
      })
      .default(new Set(FEATURES)),
    { doc: 'features to run: `transmitter`, `receiver`, `ocsf`', unit: 'list', defaultDoc: '`transmitter,receiver,ocsf`' },
  ),
  issuer: option(
    'LIVESCOPE_SSF_ISSUER',
    z
      .url()
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    { doc: 'issuer and base URL of the endpoints (the public base URL, https in production)', unit: 'URL', defaultDoc: '`http://<host>:<port>` once listening' },
  ),
  signingKeys: option('LIVESCOPE_SSF_SIGNING_KEYS', json(z.array(KeyConfigSchema).min(1)).optional(), {
    doc: 'SET signing keys `[{kid, alg, privateKey}]` (`livescope-interop keygen` prints one); required by the transmitter',
    unit: 'JSON',
    secret: true,
  }),
  receiverClients: option('LIVESCOPE_SSF_RECEIVER_CLIENTS', json(z.array(ReceiverClientSchema)).default([]), {
    doc: 'receivers allowed to manage streams: `[{clientId, token, audience}]`',
    unit: 'JSON',
    secret: true,
  }),
  sessionSubjects: option('LIVESCOPE_SSF_SESSION_SUBJECTS', z.enum(['complex', 'iss_sub']).default('complex'), { doc: '`complex` (user + session) or `iss_sub` (user only) for session SETs', unit: 'format' }),
  defaultSubjects: option('LIVESCOPE_SSF_DEFAULT_SUBJECTS', z.enum(['ALL', 'NONE']).default('ALL'), { doc: '`ALL`: every subject unless removed; `NONE`: only subjects added', unit: 'ALL/NONE' }),
  topicAudience: option('LIVESCOPE_SSF_TOPIC_AUDIENCE', z.string().min(1).default('urn:livescope:caep-topic'), { doc: '`aud` of the SETs on `livescope.caep.events.v1`', unit: 'text' }),
  minVerificationIntervalSec: option('LIVESCOPE_SSF_MIN_VERIFICATION_INTERVAL_S', int(0, 86_400).default(5), { doc: '`min_verification_interval` of the streams', unit: 's' }),
  pushTimeoutMs: option('LIVESCOPE_SSF_PUSH_TIMEOUT_MS', int(100, 120_000).default(5000), { doc: 'per push request', unit: 'ms' }),
  pushMaxAttempts: option('LIVESCOPE_SSF_PUSH_MAX_ATTEMPTS', int(1, 100).default(10), { doc: 'push attempts before a SET is marked failed', unit: 'attempts' }),
  retryBaseMs: option('LIVESCOPE_SSF_RETRY_BASE_MS', int(10, 600_000).default(500), { doc: 'exponential backoff with jitter between push and webhook attempts: the first delay', unit: 'ms' }),
  retryMaxMs: option('LIVESCOPE_SSF_RETRY_MAX_MS', int(10, 3_600_000).default(300_000), { doc: 'the longest delay of that backoff', unit: 'ms' }),
  deliveryIntervalMs: option('LIVESCOPE_SSF_DELIVERY_INTERVAL_MS', int(10, 60_000).default(250), { doc: 'pause of the push loop when nothing is due', unit: 'ms' }),
  pollWaitMs: option('LIVESCOPE_SSF_POLL_WAIT_MS', int(0, 60_000).default(10_000), { doc: 'longest long-poll wait', unit: 'ms' }),
  pollAckTimeoutMs: option('LIVESCOPE_SSF_POLL_ACK_TIMEOUT_MS', int(1000, 3_600_000).default(60_000), { doc: 'a polled, unacknowledged SET is returned again after this', unit: 'ms' }),
  trustedIssuers: option('LIVESCOPE_SSF_TRUSTED_ISSUERS', json(z.array(TrustedIssuerSchema)).default([]), {
    doc: 'transmitters this receiver accepts SETs from: `[{issuer, audience, jwks | jwksUri, authorization?, …}]`',
    unit: 'JSON',
    secret: true,
    check: (v) => {
      const bad = v.find((t) => !t.jwks === !t.jwksUri);
      return bad ? `issuer ${bad.issuer} needs exactly one of jwks and jwksUri` : undefined;
    },
  }),
  receiverMaxAgeSec: option('LIVESCOPE_SSF_RECEIVER_MAX_AGE_S', int(60, 30 * 86_400).default(7 * 86_400), { doc: 'received SETs whose `iat` is older are refused', unit: 's' }),
  commandPublicKeys: option('LIVESCOPE_COMMAND_PUBLIC_KEYS', json(z.record(z.string(), z.string())).default({}), {
    doc: "the scope worker's Ed25519 public keys `{kid: key}` (base64url raw or PEM) that sign the commands consumed; required by the transmitter",
    unit: 'JSON',
    fromFile: true,
  }),
  consumeFromBeginning: option('LIVESCOPE_CONSUME_FROM_BEGINNING', bool.default(false), { doc: 'a new consumer group reads the topics from the beginning (replays history) instead of the latest offset', unit: 'true/false' }),
  ocsfWebhookUrl: option('LIVESCOPE_OCSF_WEBHOOK_URL', z.url().optional(), { doc: 'SIEM HTTP endpoint that receives OCSF findings; unset: the OCSF topic only', unit: 'URL' }),
  ocsfWebhookAuthorization: option('LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION', z.string().min(1).optional(), { doc: '`Authorization` header of the SIEM webhook', unit: 'secret', secret: true }),
  ocsfWebhookMaxAttempts: option('LIVESCOPE_OCSF_WEBHOOK_MAX_ATTEMPTS', int(1, 100).default(8), { doc: 'webhook attempts per finding (429, 5xx and timeouts are retried with backoff)', unit: 'attempts' }),
  ocsfWebhookTimeoutMs: option('LIVESCOPE_OCSF_WEBHOOK_TIMEOUT_MS', int(100, 120_000).default(5000), { doc: 'timeout of one webhook call', unit: 'ms' }),
  oauthClients: option('LIVESCOPE_SSF_OAUTH_CLIENTS', json(OAuthClients).default([]), {
    doc: 'receivers authenticating with OAuth 2.0 client credentials at `/ssf/oauth/token`: `[{clientId, clientSecret or clientSecretFile, audience}]` (secrets at least 16 characters)',
    unit: 'JSON',
    secret: true,
  }),
  accessTokenTtlSec: option('LIVESCOPE_SSF_ACCESS_TOKEN_TTL_S', int(60, 86_400).default(3600), { doc: 'lifetime of the access tokens `/ssf/oauth/token` issues', unit: 's' }),
  pollStreams: option('LIVESCOPE_SSF_POLL_STREAMS', json(PollStreams).default([]), {
    doc: 'transmitters this receiver polls (RFC 8936) through streams it manages: `[{transmitter, clientId + clientSecret or clientSecretFile (or bearerToken), audience, …}]`',
    unit: 'JSON',
    secret: true,
  }),
  ...producerOptions,
} as const;

type Parsed = ConfigOf<typeof interopOptions>;

export type InteropConfig = Omit<Parsed, 'signingKeys'> & {
  readonly signingKeys: z.infer<typeof KeyConfigSchema>[];
  /** Signs the events the SET receiver publishes, and says which control types it may send (non-enumerable: it holds the key). */
  readonly producer: ProducerIdentity;
};

export function loadInteropConfig(env: Env = process.env): InteropConfig {
  const c = loadConfig(interopOptions, env);
  if (c.features.has('transmitter')) {
    if (!c.signingKeys) throw new ConfigError('LIVESCOPE_SSF_SIGNING_KEYS is required by the transmitter: a JSON array of {kid, alg, privateKey}; `livescope-interop keygen` prints one (see docs/caep.md)', ['LIVESCOPE_SSF_SIGNING_KEYS']);
    if (Object.keys(c.commandPublicKeys).length === 0) throw new ConfigError("LIVESCOPE_COMMAND_PUBLIC_KEYS is required by the transmitter: the scope worker's Ed25519 public keys as {kid: key}, to verify the commands it turns into SETs", ['LIVESCOPE_COMMAND_PUBLIC_KEYS']);
    const tokens = new Set<string>();
    for (const r of c.receiverClients) {
      if (tokens.has(r.token)) throw new ConfigError(`LIVESCOPE_SSF_RECEIVER_CLIENTS: two clients share a token (${r.clientId})`, ['LIVESCOPE_SSF_RECEIVER_CLIENTS']);
      tokens.add(r.token);
    }
  }
  const config = reshapeConfig(c, ['signingKeys'], {});
  Object.defineProperty(config, 'signingKeys', { value: c.signingKeys ?? [], enumerable: false });
  Object.defineProperty(config, 'producer', { value: producerIdentity(c), enumerable: false });
  return config as InteropConfig;
}

/**
 * `livescope-ingest`: the connection, its producer key and the webhook's authentication; what it
 * reads and how comes from its arguments (`--listen`, `--body-limit`, `--machine-users`, …).
 * docs/adapters.md's table is rendered from it (`npm run docs:config`).
 */
export const ingestOptions = {
  ...kafkaOptions,
  ...registryOptions,
  ...topicPrefixOption,
  ...logLevelOption('warn'),
  ...producerOptions,
  ingestToken: option('LIVESCOPE_INGEST_TOKEN', z.string().min(16, 'must be at least 16 characters').optional(), {
    doc: 'bearer token `--listen` requires (`Authorization: Bearer <token>`); the webhook needs it or `LIVESCOPE_INGEST_HMAC_SECRET`',
    unit: 'secret',
    secret: true,
  }),
  ingestHmacSecret: option('LIVESCOPE_INGEST_HMAC_SECRET', z.string().min(16, 'must be at least 16 characters').optional(), {
    doc: 'shared secret of the HMAC-SHA256 of the exact body `--listen` requires in `X-Livescope-Signature: sha256=<hex>` (GitHub-style senders); with a token too, a request needs both',
    unit: 'secret',
    secret: true,
  }),
} as const;

export type IngestConfig = ConfigOf<typeof ingestOptions>;

export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return loadConfig(ingestOptions, env);
}
