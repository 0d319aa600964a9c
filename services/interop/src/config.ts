import { hostname } from 'node:os';
import { bool, commonOptions, ConfigError, csv, int, json, kafkaOptions, loadConfig, logLevelOption, option, registryOptions, reshapeConfig, topicPrefixOption, type ConfigOf, type Env } from '@livescope/runtime';
import { z } from 'zod';

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
} as const;

type Parsed = ConfigOf<typeof interopOptions>;

export type InteropConfig = Omit<Parsed, 'signingKeys'> & { readonly signingKeys: z.infer<typeof KeyConfigSchema>[] };

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
  return config as InteropConfig;
}

/** `livescope-ingest`: the connection only; what it reads and how comes from its arguments. */
export const ingestOptions = { ...kafkaOptions, ...registryOptions, ...topicPrefixOption, ...logLevelOption('warn') } as const;

export type IngestConfig = ConfigOf<typeof ingestOptions>;

export function loadIngestConfig(env: Env = process.env): IngestConfig {
  return loadConfig(ingestOptions, env);
}
