import { hostname } from 'node:os';
import { z } from 'zod';
import { InteropError } from './InteropError.js';
import { producerIdentityFromEnv, secretFromEnv, type ProducerIdentity } from './secretEnv.js';

/**
 * Configuration of `livescope-interop`, parsed once from the environment. Every variable has the
 * default shown; a bad value fails the start with a message naming the variable.
 */
const csv = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((s, ctx): z.infer<T> => {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: `${i.path.join('.') || '(root)'}: ${i.message}` });
      return z.NEVER;
    }
    return r.data;
  });

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
  /** The client secret (at least 16 characters), or `clientSecretFile` naming a file that holds it. */
  clientSecret: z.string().min(16).optional(),
  clientSecretFile: z.string().min(1).optional(),
  /** `aud` of the SETs of this client's streams. */
  audience: z.string().min(1),
});
export type OAuthClientConfig = z.infer<typeof OAuthClientSchema>;

/** A transmitter this receiver polls (RFC 8936) through a stream it manages with the SSF 1.0 API. */
export const PollStreamSchema = z.strictObject({
  /** The transmitter's issuer; its metadata is read from `/.well-known/ssf-configuration`. */
  transmitter: z.url(),
  /** OAuth 2.0 client credentials (token endpoint from `tokenEndpoint`, else the transmitter's `/.well-known/oauth-authorization-server`). */
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
export type PollStreamConfig = z.infer<typeof PollStreamSchema>;

const Env = z.object({
  LIVESCOPE_KAFKA_BROKERS: csv.default(['127.0.0.1:9092']),
  LIVESCOPE_REGISTRY_URL: z.url().default('http://127.0.0.1:8081/apis/ccompat/v7'),
  LIVESCOPE_PG_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/livescope'),
  LIVESCOPE_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('livescope'),
  LIVESCOPE_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  LIVESCOPE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIVESCOPE_INTEROP_ID: z.string().min(1).default(`interop-${hostname()}-${process.pid}`),
  LIVESCOPE_INTEROP_HOST: z.string().min(1).default('127.0.0.1'),
  LIVESCOPE_INTEROP_PORT: int(0, 65535).default(8470),
  /** Public base URL of this service (the SSF issuer and the base of the advertised endpoints). */
  LIVESCOPE_SSF_ISSUER: z.url().optional(),
  LIVESCOPE_SSF_SIGNING_KEYS: json(z.array(KeyConfigSchema).min(1)).optional(),
  LIVESCOPE_SSF_RECEIVER_CLIENTS: json(z.array(ReceiverClientSchema)).default([]),
  LIVESCOPE_SSF_SESSION_SUBJECTS: z.enum(['complex', 'iss_sub']).default('complex'),
  LIVESCOPE_SSF_DEFAULT_SUBJECTS: z.enum(['ALL', 'NONE']).default('ALL'),
  LIVESCOPE_SSF_TOPIC_AUDIENCE: z.string().min(1).default('urn:livescope:caep-topic'),
  LIVESCOPE_SSF_MIN_VERIFICATION_INTERVAL_S: int(0, 86_400).default(5),
  LIVESCOPE_SSF_PUSH_TIMEOUT_MS: int(100, 120_000).default(5000),
  LIVESCOPE_SSF_PUSH_MAX_ATTEMPTS: int(1, 100).default(10),
  LIVESCOPE_SSF_RETRY_BASE_MS: int(10, 600_000).default(500),
  LIVESCOPE_SSF_RETRY_MAX_MS: int(10, 3_600_000).default(300_000),
  LIVESCOPE_SSF_DELIVERY_INTERVAL_MS: int(10, 60_000).default(250),
  LIVESCOPE_SSF_POLL_WAIT_MS: int(0, 60_000).default(10_000),
  LIVESCOPE_SSF_POLL_ACK_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  LIVESCOPE_SSF_TRUSTED_ISSUERS: json(z.array(TrustedIssuerSchema)).default([]),
  LIVESCOPE_SSF_RECEIVER_MAX_AGE_S: int(60, 30 * 86_400).default(7 * 86_400),
  LIVESCOPE_COMMAND_PUBLIC_KEYS: json(z.record(z.string(), z.string())).default({}),
  LIVESCOPE_CONSUME_FROM_BEGINNING: bool.default(false),
  LIVESCOPE_OCSF_WEBHOOK_URL: z.url().optional(),
  LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION: z.string().optional(),
  LIVESCOPE_OCSF_WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),
  LIVESCOPE_OCSF_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(5000),
  LIVESCOPE_INTEROP_ENABLE: csv.default(['transmitter', 'receiver', 'ocsf']),
  LIVESCOPE_SSF_OAUTH_CLIENTS: json(z.array(OAuthClientSchema)).default([]),
  LIVESCOPE_SSF_ACCESS_TOKEN_TTL_S: int(60, 86_400).default(3600),
  LIVESCOPE_SSF_POLL_STREAMS: json(z.array(PollStreamSchema)).default([]),
});

export type Feature = 'transmitter' | 'receiver' | 'ocsf';

export interface InteropConfig {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly pgUrl: string;
  readonly pgSchema: string;
  readonly topicPrefix: string;
  readonly logLevel: string;
  readonly instanceId: string;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Explicit issuer; otherwise `http://<host>:<port>` once listening. */
  readonly issuer?: string;
  readonly signingKeys: z.infer<typeof KeyConfigSchema>[];
  readonly receiverClients: readonly ReceiverClient[];
  readonly sessionSubjects: 'complex' | 'iss_sub';
  readonly defaultSubjects: 'ALL' | 'NONE';
  readonly topicAudience: string;
  readonly minVerificationIntervalSec: number;
  readonly pushTimeoutMs: number;
  readonly pushMaxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly deliveryIntervalMs: number;
  readonly pollWaitMs: number;
  readonly pollAckTimeoutMs: number;
  readonly trustedIssuers: readonly TrustedIssuerConfig[];
  readonly receiverMaxAgeSec: number;
  /** Ed25519 public keys (kid → base64url raw or PEM) that sign the commands consumed. */
  readonly commandPublicKeys: Readonly<Record<string, string>>;
  readonly consumeFromBeginning: boolean;
  readonly ocsfWebhookUrl?: string;
  readonly ocsfWebhookAuthorization?: string;
  readonly ocsfWebhookMaxAttempts: number;
  readonly ocsfWebhookTimeoutMs: number;
  readonly features: ReadonlySet<Feature>;
  /** Signs the events the receiver publishes, and says which control types it may send (see secretEnv.ts). */
  readonly producer: ProducerIdentity;
  /** Receivers authenticating with OAuth 2.0 client credentials (secrets resolved from files). */
  readonly oauthClients: readonly (Omit<OAuthClientConfig, 'clientSecretFile'> & { readonly clientSecret: string })[];
  /** Lifetime of the access tokens `/ssf/oauth/token` issues (s). */
  readonly accessTokenTtlSec: number;
  /** Transmitters this receiver polls. */
  readonly pollStreams: readonly PollStreamConfig[];
}

export function loadInteropConfig(env: Record<string, string | undefined> = process.env): InteropConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new InteropError('CONFIG', 'fatal', `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const features = new Set<Feature>();
  for (const f of e.LIVESCOPE_INTEROP_ENABLE) {
    if (f !== 'transmitter' && f !== 'receiver' && f !== 'ocsf') throw new InteropError('CONFIG', 'fatal', `LIVESCOPE_INTEROP_ENABLE: unknown feature ${f} (transmitter, receiver, ocsf)`);
    features.add(f);
  }
  if (features.has('transmitter')) {
    if (!e.LIVESCOPE_SSF_SIGNING_KEYS) throw new InteropError('CONFIG', 'fatal', 'LIVESCOPE_SSF_SIGNING_KEYS is required by the transmitter: a JSON array of {kid, alg, privateKey}; `livescope-interop keygen` prints one (see docs/caep.md)');
    if (Object.keys(e.LIVESCOPE_COMMAND_PUBLIC_KEYS).length === 0) throw new InteropError('CONFIG', 'fatal', "LIVESCOPE_COMMAND_PUBLIC_KEYS is required by the transmitter: the scope worker's Ed25519 public keys as {kid: key}, to verify the commands it turns into SETs");
    const tokens = new Set<string>();
    for (const c of e.LIVESCOPE_SSF_RECEIVER_CLIENTS) {
      if (tokens.has(c.token)) throw new InteropError('CONFIG', 'fatal', `LIVESCOPE_SSF_RECEIVER_CLIENTS: two clients share a token (${c.clientId})`);
      tokens.add(c.token);
    }
  }
  for (const t of e.LIVESCOPE_SSF_TRUSTED_ISSUERS) {
    if (!t.jwks === !t.jwksUri) throw new InteropError('CONFIG', 'fatal', `LIVESCOPE_SSF_TRUSTED_ISSUERS: issuer ${t.issuer} needs exactly one of jwks and jwksUri`);
  }
  return {
    brokers: e.LIVESCOPE_KAFKA_BROKERS,
    registryUrl: e.LIVESCOPE_REGISTRY_URL,
    pgUrl: e.LIVESCOPE_PG_URL,
    pgSchema: e.LIVESCOPE_PG_SCHEMA,
    topicPrefix: e.LIVESCOPE_TOPIC_PREFIX,
    logLevel: e.LIVESCOPE_LOG_LEVEL,
    instanceId: e.LIVESCOPE_INTEROP_ID,
    host: e.LIVESCOPE_INTEROP_HOST,
    port: e.LIVESCOPE_INTEROP_PORT,
    ...(e.LIVESCOPE_SSF_ISSUER ? { issuer: e.LIVESCOPE_SSF_ISSUER.replace(/\/+$/, '') } : {}),
    signingKeys: e.LIVESCOPE_SSF_SIGNING_KEYS ?? [],
    receiverClients: e.LIVESCOPE_SSF_RECEIVER_CLIENTS,
    sessionSubjects: e.LIVESCOPE_SSF_SESSION_SUBJECTS,
    defaultSubjects: e.LIVESCOPE_SSF_DEFAULT_SUBJECTS,
    topicAudience: e.LIVESCOPE_SSF_TOPIC_AUDIENCE,
    minVerificationIntervalSec: e.LIVESCOPE_SSF_MIN_VERIFICATION_INTERVAL_S,
    pushTimeoutMs: e.LIVESCOPE_SSF_PUSH_TIMEOUT_MS,
    pushMaxAttempts: e.LIVESCOPE_SSF_PUSH_MAX_ATTEMPTS,
    retryBaseMs: e.LIVESCOPE_SSF_RETRY_BASE_MS,
    retryMaxMs: e.LIVESCOPE_SSF_RETRY_MAX_MS,
    deliveryIntervalMs: e.LIVESCOPE_SSF_DELIVERY_INTERVAL_MS,
    pollWaitMs: e.LIVESCOPE_SSF_POLL_WAIT_MS,
    pollAckTimeoutMs: e.LIVESCOPE_SSF_POLL_ACK_TIMEOUT_MS,
    trustedIssuers: e.LIVESCOPE_SSF_TRUSTED_ISSUERS,
    receiverMaxAgeSec: e.LIVESCOPE_SSF_RECEIVER_MAX_AGE_S,
    commandPublicKeys: e.LIVESCOPE_COMMAND_PUBLIC_KEYS,
    consumeFromBeginning: e.LIVESCOPE_CONSUME_FROM_BEGINNING,
    ...(e.LIVESCOPE_OCSF_WEBHOOK_URL ? { ocsfWebhookUrl: e.LIVESCOPE_OCSF_WEBHOOK_URL } : {}),
    ...(e.LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION ? { ocsfWebhookAuthorization: e.LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION } : {}),
    ocsfWebhookMaxAttempts: e.LIVESCOPE_OCSF_WEBHOOK_MAX_ATTEMPTS,
    ocsfWebhookTimeoutMs: e.LIVESCOPE_OCSF_WEBHOOK_TIMEOUT_MS,
    features,
    producer: producerIdentityFromEnv(env),
    oauthClients: e.LIVESCOPE_SSF_OAUTH_CLIENTS.map(({ clientSecretFile, ...c }) => {
      const clientSecret = c.clientSecret ?? (clientSecretFile ? secretFromEnv({ SECRET_FILE: clientSecretFile }, 'SECRET') : undefined);
      if (!clientSecret || clientSecret.length < 16) throw new InteropError('CONFIG', 'fatal', `LIVESCOPE_SSF_OAUTH_CLIENTS: client ${c.clientId} needs a clientSecret (or clientSecretFile) of at least 16 characters`);
      return { ...c, clientSecret };
    }),
    accessTokenTtlSec: e.LIVESCOPE_SSF_ACCESS_TOKEN_TTL_S,
    pollStreams: e.LIVESCOPE_SSF_POLL_STREAMS,
  };
}
