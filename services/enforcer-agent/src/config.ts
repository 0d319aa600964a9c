import { hostname } from 'node:os';
import { bool, ConfigError, csv, int, json, kafkaOptions, loadConfig, logLevelOption, option, registryOptions, topicPrefixOption, tracingOptions, type ConfigOf, type Env } from '@livescope/runtime';
import { z } from 'zod';
import { RouteSchema, RouteTable } from './RouteTable.js';

export { ConfigError };

const IDENTITY_SOURCES = ['jwt', 'spiffe', 'header'] as const;
export type IdentitySourceName = (typeof IDENTITY_SOURCES)[number];

const identitySources = csv.pipe(z.array(z.enum(IDENTITY_SOURCES)).min(1, 'name at least one of jwt, spiffe, header'));
const headerName = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be an HTTP header name (a-z, 0-9, -)'));
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const trustDomain = z.string().regex(/^[a-z0-9._-]{1,255}$/, 'must be a SPIFFE trust domain (a-z, 0-9, ., _, -)');

const needsSource = (source: IdentitySourceName) => (value: unknown, c: Readonly<Record<string, unknown>>) =>
  value === undefined && (c.identitySources as readonly string[]).includes(source) ? `is required when LIVESCOPE_AGENT_IDENTITY_SOURCES includes ${source}` : undefined;

/**
 * The agent's configuration: every option written once (the shared Kafka, registry, topic prefix
 * and log level fragments included). docs/enforcement.md's table is rendered from it
 * (`npm run docs:config`; a unit test keeps it in step). The agent needs no PostgreSQL.
 */
export const agentOptions = {
  ...kafkaOptions,
  ...registryOptions,
  ...topicPrefixOption,
  ...logLevelOption('info'),
  ...tracingOptions,
  enforcerId: option('LIVESCOPE_ENFORCER_ID', z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ -').default(`agent-${hostname()}`), {
    doc: "this enforcement point's name (acknowledgements, decision reports, its consumer group `livescope-enforcer-<id>`); unique per running instance, kept across restarts",
    unit: 'name',
    defaultDoc: '`agent-<hostname>`',
  }),
  trustedKeys: option('LIVESCOPE_ENFORCER_TRUSTED_KEYS', json(z.record(z.string().min(1).max(128), z.string().min(1))).optional(), {
    doc: "the scope workers' command keys, JSON `{ \"<key id>\": \"<Ed25519 public key>\" }` (base64url raw or SPKI PEM); commands signed otherwise are rejected",
    unit: 'JSON',
    defaultDoc: '(required)',
    fromFile: true,
    check: (v) => (v === undefined || Object.keys(v).length === 0 ? 'is required: at least one key id → public key' : undefined),
  }),
  minKeyEpoch: option('LIVESCOPE_ENFORCER_MIN_KEY_EPOCH', int(0, 1_000_000).default(0), { doc: 'commands signed at a lower key epoch are rejected', unit: 'epoch' }),
  ackSigningKeyId: option('LIVESCOPE_ENFORCER_ACK_KEY_ID', z.string().min(1).max(128).optional(), {
    doc: "key id of this enforcement point's acknowledgement signing key (the control plane's `LIVESCOPE_API_ENFORCER_KEYS`)",
    unit: 'name',
    defaultDoc: 'unsigned acknowledgements',
    check: (v, c) => (v !== undefined && c.ackSigningKey === undefined ? 'is set without LIVESCOPE_ENFORCER_ACK_KEY' : undefined),
  }),
  ackSigningKey: option('LIVESCOPE_ENFORCER_ACK_KEY', z.string().min(1).optional(), {
    doc: 'Ed25519 key that signs acknowledgements: base64url raw 32-byte seed, or PKCS#8 PEM',
    unit: 'secret',
    secret: true,
    check: (v, c) => (v !== undefined && c.ackSigningKeyId === undefined ? 'is set without LIVESCOPE_ENFORCER_ACK_KEY_ID' : undefined),
  }),
  sensitiveActions: option('LIVESCOPE_ENFORCER_SENSITIVE_ACTIONS', csv.default([]), { doc: 'actions denied (`stale`) once the pipeline has been silent for `LIVESCOPE_ENFORCER_MAX_STALENESS_MS`', unit: 'action,…', defaultDoc: 'none' }),
  maxStalenessMs: option('LIVESCOPE_ENFORCER_MAX_STALENESS_MS', int(1000, 3_600_000).default(30_000), { doc: 'staleness bound of sensitive actions', unit: 'ms' }),
  requireSession: option('LIVESCOPE_ENFORCER_REQUIRE_SESSION', bool.default(false), {
    doc: 'deny requests that carry no session (JWT session claim); a session that is given must be live either way',
    unit: 'true/false',
  }),
  highWaterFile: option('LIVESCOPE_ENFORCER_HIGH_WATER_FILE', z.string().min(1).optional(), {
    doc: 'durable file of the highest scope version applied per identity: after a restart, an identity the topics offer only older scope for is denied until it catches up',
    unit: 'path',
    defaultDoc: 'none',
  }),
  startupTimeoutMs: option('LIVESCOPE_STARTUP_TIMEOUT_MS', int(0, 3_600_000).default(120_000), { doc: 'how long start-up retries an unavailable broker or registry before giving up', unit: 'ms' }),
  httpHost: option('LIVESCOPE_AGENT_HOST', z.string().min(1).default('127.0.0.1'), {
    doc: 'address of the check API (forward-auth, JSON, watch, /metrics, /healthz, /readyz); keep it reachable by the proxy or service it serves only',
    unit: 'address',
  }),
  httpPort: option('LIVESCOPE_AGENT_PORT', int(0, 65535).default(9181), { doc: 'port of the check API (`0`: any free port, logged)', unit: 'port' }),
  grpcPort: option('LIVESCOPE_AGENT_GRPC_PORT', int(-1, 65535).default(-1), {
    doc: "port of Envoy's external authorization gRPC API (`envoy.service.auth.v3.Authorization`) on `LIVESCOPE_AGENT_HOST` (`-1`: off, `0`: any free port)",
    unit: 'port',
  }),
  envoyProtoDir: option('LIVESCOPE_AGENT_ENVOY_PROTO_DIR', z.string().min(1).optional(), {
    doc: "folder of Envoy's API .proto files; unset: fetched once from Maven Central (`io.envoyproxy.controlplane:api:1.0.49`) into `~/.cache/livescope/envoy-api-1.0.49`",
    unit: 'path',
    defaultDoc: 'fetched',
  }),
  identitySources: option('LIVESCOPE_AGENT_IDENTITY_SOURCES', identitySources.default(['jwt']), {
    doc: 'where the calling identity comes from, tried in order: `jwt` (bearer token verified against a JWKS), `spiffe` (the URI SAN of the forwarded client certificate), `header` (a header the proxy sets; trusted as is)',
    unit: 'source,…',
  }),
  jwksUrl: option('LIVESCOPE_AGENT_JWKS_URL', z.url().optional(), {
    doc: 'JWKS of the token issuer (https, fetched and cached); or `LIVESCOPE_AGENT_JWKS`',
    unit: 'URL',
    check: (v, c) => {
      if (v !== undefined && c.jwks !== undefined) return 'is set together with LIVESCOPE_AGENT_JWKS: use one';
      if (v === undefined) return c.jwks === undefined ? needsSource('jwt')(v, c) : undefined;
      const u = new URL(v);
      // Keys fetched in clear text could be swapped on the way: https, or the loopback interface.
      return u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) ? undefined : 'must be an https URL (or a loopback http one)';
    },
  }),
  jwks: option('LIVESCOPE_AGENT_JWKS', json(z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) })).optional(), {
    doc: 'the JWKS itself, JSON `{ "keys": [...] }` (or from `LIVESCOPE_AGENT_JWKS_FILE`)',
    unit: 'JSON',
    fromFile: true,
  }),
  jwtIssuer: option('LIVESCOPE_AGENT_JWT_ISSUER', z.string().min(1).optional(), { doc: 'the `iss` tokens must carry', unit: 'text', defaultDoc: '(required with jwt)', check: needsSource('jwt') }),
  jwtAudience: option('LIVESCOPE_AGENT_JWT_AUDIENCE', z.string().min(1).optional(), { doc: 'the `aud` tokens must carry', unit: 'text', defaultDoc: '(required with jwt)', check: needsSource('jwt') }),
  jwtAlgorithms: option('LIVESCOPE_AGENT_JWT_ALGORITHMS', csv.pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1)).default(['RS256', 'ES256', 'EdDSA']), {
    doc: 'signature algorithms accepted (`none` and HMAC never are)',
    unit: 'alg,…',
  }),
  jwtIdentityClaim: option('LIVESCOPE_AGENT_JWT_IDENTITY_CLAIM', z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/).default('sub'), { doc: 'the claim naming the identity', unit: 'claim' }),
  jwtSessionClaim: option('LIVESCOPE_AGENT_JWT_SESSION_CLAIM', z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/).optional(), { doc: 'the claim naming the session (checked live when present)', unit: 'claim', defaultDoc: 'none' }),
  jwtCacheMs: option('LIVESCOPE_AGENT_JWT_CACHE_MS', int(0, 300_000).default(30_000), {
    doc: 'how long a verified token is remembered (by its SHA-256, never past its `exp`; a key removed from the JWKS stops counting after at most this long); `0`: verify every request',
    unit: 'ms',
  }),
  jwtClockToleranceS: option('LIVESCOPE_AGENT_JWT_CLOCK_TOLERANCE_S', int(0, 300).default(30), { doc: 'clock skew allowed on `exp` and `nbf`', unit: 's' }),
  spiffeHeader: option('LIVESCOPE_AGENT_SPIFFE_HEADER', headerName.default('x-forwarded-client-cert'), { doc: 'header with the forwarded client certificate (Envoy XFCC format, `URI=spiffe://…`)', unit: 'header' }),
  spiffeTrustDomains: option('LIVESCOPE_AGENT_SPIFFE_TRUST_DOMAINS', csv.pipe(z.array(trustDomain)).optional(), {
    doc: 'trust domains whose SPIFFE IDs are accepted; the identity is the whole SPIFFE ID',
    unit: 'domain,…',
    defaultDoc: '(required with spiffe)',
    check: (v, c) => needsSource('spiffe')(v === undefined || v.length === 0 ? undefined : v, c),
  }),
  identityHeader: option('LIVESCOPE_AGENT_IDENTITY_HEADER', headerName.optional(), {
    doc: 'header holding the identity id, trusted as is: only behind a proxy that sets it and strips it from clients',
    unit: 'header',
    defaultDoc: '(required with header)',
    check: needsSource('header'),
  }),
  sessionHeader: option('LIVESCOPE_AGENT_SESSION_HEADER', headerName.optional(), { doc: 'header holding the session id, with the `header` source', unit: 'header', defaultDoc: 'none' }),
  routes: option('LIVESCOPE_AGENT_ROUTES', json(z.array(RouteSchema).min(1).max(10_000)).optional(), {
    doc: 'how a request becomes an action and a resource: JSON `[{ "methods": ["GET"], "host": "api.example", "path": "/orders/{id}", "action": "orders:read", "resource": "orders/{id}" }]`, first match wins (docs/enforcement.md); unmatched requests are denied',
    unit: 'JSON',
    defaultDoc: '(required)',
    fromFile: true,
    check: (v, c) => {
      if (v === undefined) return 'is required: the agent denies every request it cannot map';
      try {
        new RouteTable(v, c.maxPathBytes as number);
      } catch (e) {
        return (e as Error).message;
      }
      return undefined;
    },
  }),
  forwardHeaders: option('LIVESCOPE_AGENT_FORWARD_HEADERS', z.enum(['x-original', 'x-forwarded']).default('x-original'), {
    doc: 'which headers of a forward-auth request describe the original request: `x-original` (`X-Original-Method`, `-URI`, `-Host`: the NGINX configuration of docs/enforcement.md) or `x-forwarded` (`X-Forwarded-Method`, `-Uri`, `-Host`: Traefik, Kong). Only that family is read: a proxy that passes client headers through (Traefik does) cannot be fooled with the other one',
    unit: 'family',
  }),
  trustCallerIdentity: option('LIVESCOPE_AGENT_TRUST_CALLER_IDENTITY', bool.default(false), {
    doc: 'accept `identity` (and `session`) given as such in `POST /v1/check`, from a service that authenticated its caller itself',
    unit: 'true/false',
  }),
  maxPathBytes: option('LIVESCOPE_AGENT_MAX_PATH_BYTES', int(16, 65_536).default(2048), { doc: 'longer request paths are denied (`path-too-long`)', unit: 'bytes' }),
  maxBodyBytes: option('LIVESCOPE_AGENT_MAX_BODY_BYTES', int(256, 16 * 1024 * 1024).default(64 * 1024), { doc: 'larger JSON check requests are refused (413)', unit: 'bytes' }),
  maxBatch: option('LIVESCOPE_AGENT_MAX_BATCH', int(1, 10_000).default(100), { doc: 'most checks in one `POST /v1/check/batch`', unit: 'checks' }),
  maxWatchers: option('LIVESCOPE_AGENT_MAX_WATCHERS', int(0, 10_000).default(64), { doc: 'most open watch streams (`GET /v1/watch`)', unit: 'streams' }),
  watchIntervalMs: option('LIVESCOPE_AGENT_WATCH_INTERVAL_MS', int(10, 60_000).default(100), { doc: 'how often watched scopes are compared with what was sent', unit: 'ms' }),
  graceMs: option('LIVESCOPE_AGENT_GRACE_MS', int(0, 600_000).default(10_000), { doc: 'how long a stop (SIGTERM) waits for checks in flight before closing connections', unit: 'ms' }),
} as const;

export type AgentConfig = Omit<ConfigOf<typeof agentOptions>, 'trustedKeys' | 'routes'> & {
  readonly trustedKeys: Readonly<Record<string, string>>;
  readonly routes: NonNullable<ConfigOf<typeof agentOptions>['routes']>;
};

export function loadAgentConfig(env: Env = process.env): AgentConfig {
  return loadConfig(agentOptions, env) as AgentConfig;
}
