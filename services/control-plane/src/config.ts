import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { bool, commonOptions, ConfigError, csv, int, loadConfig, option, reshapeConfig, type ConfigOf, type Env } from '@livescope/runtime';
import { z } from 'zod';
import { parseRoleMapping, type RoleSource } from './auth/roleMapping.js';
import type { Role } from './auth/roles.js';
import { parseTrustedKeys, type TrustedTokenKey } from './auth/verifyKeys.js';
import { parseEnforcerKeys, type EnforcerKeys } from './features/enforcers/AckAuthenticator.js';

export { ConfigError };

/** `LIVESCOPE_API_JWT_PUBLIC_KEYS`: JSON key id → public key, parsed into keys (the message names what is wrong). */
const trustedKeys = z.string().transform((s, ctx): TrustedTokenKey[] => {
  if (s.trim() === '') return [];
  try {
    return parseTrustedKeys(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** `LIVESCOPE_API_ENFORCER_KEYS`: enforcer id → { key id → Ed25519 public key }. */
const enforcerKeys = z.string().transform((s, ctx): EnforcerKeys => {
  try {
    return parseEnforcerKeys(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** `LIVESCOPE_API_ROLE_MAPPING`: claim value → role or [roles], checked against the known roles. */
const roleMapping = z.string().transform((s, ctx): Map<string, Role[]> | undefined => {
  if (s.trim() === '') return undefined;
  try {
    return parseRoleMapping(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** An OpenID provider's issuer: https, or http on a loopback address (a provider on the same machine, tests). */
const issuerUrl = z.url().refine((u) => {
  const url = new URL(u);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
}, 'must be an https URL (http only on a loopback address)');

/** The names proxy-addr (Fastify's `trustProxy`) accepts for whole address ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `LIVESCOPE_API_TRUSTED_PROXIES`: addresses, CIDR blocks or range names, checked here so a typo fails at start. */
const trustedProxies = csv.superRefine((items, ctx) => {
  for (const item of items) {
    const [addr = '', prefix, extra] = item.split('/');
    const family = isIP(addr);
    const bits = family === 4 ? 32 : 128;
    const okPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!(PROXY_RANGES.has(item) || (family !== 0 && okPrefix && extra === undefined))) ctx.addIssue({ code: 'custom', message: `${item} is not an IP address, a CIDR block or one of loopback, linklocal, uniquelocal` });
  }
});

/**
 * The control plane's configuration: every option written once, here and in @livescope/runtime's
 * shared fragment. The token keys are the one requirement: `LIVESCOPE_API_JWT_PUBLIC_KEYS` or
 * `LIVESCOPE_API_JWKS_URL` (or, for development only, `LIVESCOPE_DEV_KEYS`). docs/api.md's table
 * is rendered from it (`npm run docs:config`).
 */
export const controlPlaneOptions = {
  host: option('LIVESCOPE_API_HOST', z.string().min(1).default('127.0.0.1'), { doc: 'interface the API binds', unit: 'address' }),
  port: option('LIVESCOPE_API_PORT', int(0, 65535).default(8787), { doc: 'HTTP port (`0` = any free port)', unit: 'port' }),
  ...commonOptions,
  groupId: option('LIVESCOPE_API_GROUP_ID', z.string().min(1).default('livescope-control-plane'), {
    doc: 'consumer group storing alerts and enforcer acknowledgements; also the prefix of its command followers’ groups',
    unit: 'name',
  }),
  instanceId: option('LIVESCOPE_API_INSTANCE_ID', z.string().min(1).default(`${hostname()}-${process.pid}`), { doc: 'this instance in logs', unit: 'name', defaultDoc: '`<hostname>-<pid>`' }),
  jwtPublicKeys: option('LIVESCOPE_API_JWT_PUBLIC_KEYS', trustedKeys.default([]), {
    doc: 'key id → public key (PEM SPKI, base64url raw Ed25519, or a public JWK) trusted for bearer tokens',
    unit: 'JSON',
    defaultDoc: '—',
    fromFile: true,
  }),
  jwksUrl: option('LIVESCOPE_API_JWKS_URL', z.url().optional(), { doc: 'or: a JWKS URL of the identity provider (keys fetched and cached by `jose`)', unit: 'URL' }),
  jwtIssuer: option('LIVESCOPE_API_JWT_ISSUER', z.string().min(1).default('livescope'), { doc: 'required `iss`', unit: 'text' }),
  jwtAudience: option('LIVESCOPE_API_JWT_AUDIENCE', z.string().min(1).default('livescope-api'), { doc: 'required `aud`', unit: 'text' }),
  oidcIssuer: option('LIVESCOPE_API_OIDC_ISSUER', issuerUrl.optional(), {
    doc: 'single sign-on: the OpenID provider tokens must come from (their `iss`; `LIVESCOPE_API_JWT_ISSUER` then defaults to it); its keys are found through its discovery document (`jwks_uri`), read and checked at start; the console (authorization code with PKCE) and `livescope login` (device authorization grant) sign in through it',
    unit: 'URL',
  }),
  oidcConsoleClientId: option('LIVESCOPE_API_OIDC_CONSOLE_CLIENT_ID', z.string().min(1).max(256).optional(), {
    doc: 'with the issuer: client id of the web console at the provider (a public client; redirect URI `<API URL>/console/callback`); unset: the console asks for a pasted token',
    unit: 'name',
  }),
  oidcCliClientId: option('LIVESCOPE_API_OIDC_CLI_CLIENT_ID', z.string().min(1).max(256).optional(), {
    doc: 'with the issuer: client id of the command line at the provider (a public client allowed the device authorization grant); unset: `livescope login` is unavailable',
    unit: 'name',
  }),
  oidcScopes: option('LIVESCOPE_API_OIDC_SCOPES', z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'space-separated scope tokens').default('openid'), {
    doc: 'scopes the console and the CLI ask for',
    unit: 'scopes',
  }),
  oidcResource: option('LIVESCOPE_API_OIDC_RESOURCE', z.url().optional(), {
    doc: 'resource indicator (RFC 8707) the console and the CLI ask tokens for, for providers that set the audience from it; unset: none sent',
    unit: 'URI',
  }),
  rolesClaim: option('LIVESCOPE_API_ROLES_CLAIM', z.string().regex(/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/, 'a claim name, or a dotted path to a nested claim').default('roles'), {
    doc: 'the token claim roles are read from (a string or an array of strings; a dotted path reads a nested claim, e.g. `realm_access.roles`)',
    unit: 'claim',
  }),
  roleMapping: option('LIVESCOPE_API_ROLE_MAPPING', roleMapping.optional(), {
    doc: 'JSON object of claim value → livescope role or array of roles, e.g. `{"sec-oncall":["responder","soc"],"sec-leads":"approver"}`: only mapped values grant roles; unset: the values are role names',
    unit: 'JSON',
    defaultDoc: '—',
  }),
  jwtClockToleranceMs: option('LIVESCOPE_API_JWT_CLOCK_TOLERANCE_MS', int(0, 300_000).default(30_000), { doc: 'clock skew tolerated on `exp` / `nbf`', unit: 'ms' }),
  devKeys: option('LIVESCOPE_DEV_KEYS', z.string().min(1).optional(), {
    doc: '**development only**: with no key configured above, trust the `api` key of this file (`npm start` writes it; created if absent)',
    unit: 'path',
  }),
  rateLimitPerMinute: option('LIVESCOPE_API_RATE_LIMIT_PER_MINUTE', int(1, 1_000_000).default(600), {
    doc: 'authenticated requests per minute per token subject, counted after the token is verified, whatever the client address (per instance; 429 with `Retry-After` beyond it)',
    unit: 'requests/min',
  }),
  rateLimitUnauthenticatedPerMinute: option('LIVESCOPE_API_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', int(1, 1_000_000).default(120), {
    doc: 'requests per minute per client address that carry no accepted token (missing, refused, unknown path), counted before any signature is checked: past it every `/v1` request from the address is answered 429 without verifying its token (per instance)',
    unit: 'requests/min',
  }),
  rateLimitPublicPerMinute: option('LIVESCOPE_API_RATE_LIMIT_PUBLIC_PER_MINUTE', int(1, 1_000_000).default(600), {
    doc: 'requests per minute per client address to the open routes (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`, `/auth/oidc`, the console files), a budget of their own so that refused tokens never starve probes (per instance)',
    unit: 'requests/min',
  }),
  trustedProxies: option('LIVESCOPE_API_TRUSTED_PROXIES', trustedProxies.default([]), {
    doc: 'reverse proxies whose `X-Forwarded-For` names the client address the rate limits count (addresses, CIDR blocks, `loopback`, `linklocal`, `uniquelocal`, comma-separated); unset: the address of the TCP peer',
    unit: 'addresses',
    defaultDoc: '—',
  }),
  trackingWindowMs: option('LIVESCOPE_API_TRACKING_WINDOW_MS', int(0, 7 * 86_400_000).default(3_600_000), { doc: 'how far back order progress is rebuilt from the command topics on start', unit: 'ms' }),
  enforcerLivenessMs: option('LIVESCOPE_API_ENFORCER_LIVENESS_MS', int(1000, 7 * 86_400_000).default(600_000), { doc: 'an enforcement point silent for longer no longer counts as known', unit: 'ms' }),
  maxWaitMs: option('LIVESCOPE_API_MAX_WAIT_MS', int(0, 600_000).default(60_000), { doc: 'longest long-poll (`waitMs`)', unit: 'ms' }),
  sseMaxMs: option('LIVESCOPE_API_SSE_MAX_MS', int(1000, 86_400_000).default(3_600_000), { doc: 'an event stream is closed after this long, or when its token expires if sooner; clients resume with `Last-Event-ID`', unit: 'ms' }),
  sseMaxPerSubject: option('LIVESCOPE_API_SSE_MAX_PER_SUBJECT', int(1, 10_000).default(8), {
    doc: 'concurrent event streams (alerts and changes together) one token subject may hold on an instance; one more is answered 429',
    unit: 'streams',
  }),
  ssePollMs: option('LIVESCOPE_API_SSE_POLL_MS', int(50, 60_000).default(1000), { doc: 'how often a stream looks for alerts stored by other instances', unit: 'ms' }),
  maxTtlMs: option('LIVESCOPE_API_MAX_TTL_MS', int(1000, 365 * 86_400_000).default(30 * 86_400_000), { doc: 'longest TTL of an order or approval (30 days)', unit: 'ms' }),
  publishTimeoutMs: option('LIVESCOPE_API_PUBLISH_TIMEOUT_MS', int(100, 300_000).default(15_000), { doc: 'longest wait for Kafka to confirm an order before answering 503 (the write may still land)', unit: 'ms' }),
  idempotencyRetentionMs: option('LIVESCOPE_API_IDEMPOTENCY_RETENTION_MS', int(60_000, 30 * 86_400_000).default(86_400_000), {
    doc: 'how long the answer to an order or lift sent with an `Idempotency-Key` is kept in PostgreSQL and given again to a retry with the same key (24 h)',
    unit: 'ms',
  }),
  policyApproval: option('LIVESCOPE_API_POLICY_APPROVAL', z.enum(['none', 'second-admin']).default('none'), {
    doc: '`second-admin`: every policy publication and rollback waits until an admin other than the requester approves it; `none`: only when the request asks',
    unit: 'mode',
  }),
  consoleDir: option('LIVESCOPE_CONSOLE_DIR', z.string().min(1).optional(), { doc: 'built web console served under /console/; unset: the `dist` of the installed @livescope/console', unit: 'path' }),
  startupTimeoutMs: option('LIVESCOPE_STARTUP_TIMEOUT_MS', int(0, 3_600_000).default(120_000), { doc: 'how long start-up retries an unavailable broker, registry or PostgreSQL before giving up', unit: 'ms' }),
  enforcerKeys: option('LIVESCOPE_API_ENFORCER_KEYS', enforcerKeys.default(new Map()), {
    doc: 'acknowledgement keys of enforcement points, JSON `{ "<enforcer id>": { "<key id>": "<Ed25519 public key>" } }` (base64url raw or SPKI PEM): an enforcement point listed here must sign its acknowledgements (`ackSigningKey`) with one of its own keys, or they are dropped; order status and `/v1/enforcers` say whose acknowledgements were verified',
    unit: 'JSON',
    defaultDoc: 'none (every acknowledgement counts, unverified)',
  }),
  requireSignedAcks: option('LIVESCOPE_API_REQUIRE_SIGNED_ACKS', bool.default(false), {
    doc: 'count only acknowledgements verified against `LIVESCOPE_API_ENFORCER_KEYS`: enforcement points without keys are then ignored in order status, lag and `/v1/enforcers`',
    unit: 'boolean',
  }),
  personClaim: option('LIVESCOPE_API_PERSON_CLAIM', z.string().regex(/^[A-Za-z0-9_:.-]+=.+$/, 'must be claim=value').default('kind=human'), {
    doc: 'the token claim that marks a person (`name=value`; an array claim may contain the value): only persons may approve escalations',
    unit: 'claim=value',
  }),
  producerKeyId: option('LIVESCOPE_PRODUCER_KEY_ID', z.string().min(1).max(128).optional(), {
    doc: "id of the control plane's producer key in the workers' keyring (`LIVESCOPE_PRODUCER_KEYS`)",
    unit: 'name',
    defaultDoc: '(required)',
  }),
  producerKey: option('LIVESCOPE_PRODUCER_KEY', z.string().min(1).optional(), {
    doc: 'Ed25519 private key that signs every event the control plane publishes (orders, lifts, approvals): base64url raw 32-byte seed, or PKCS#8 PEM',
    unit: 'secret',
    defaultDoc: '(required)',
    secret: true,
  }),
} as const;

type Parsed = ConfigOf<typeof controlPlaneOptions>;

/** Single sign-on through an OpenID provider: what the console and the CLI need to sign in. */
export interface OidcConfig {
  readonly issuer: string;
  readonly consoleClientId: string | undefined;
  readonly cliClientId: string | undefined;
  readonly scopes: string;
  readonly resource: string | undefined;
}

type OidcKeys = 'oidcIssuer' | 'oidcConsoleClientId' | 'oidcCliClientId' | 'oidcScopes' | 'oidcResource' | 'rolesClaim' | 'roleMapping';

export type ControlPlaneConfig = Omit<Parsed, 'jwtPublicKeys' | 'jwksUrl' | 'jwtIssuer' | 'jwtAudience' | 'jwtClockToleranceMs' | 'devKeys' | 'personClaim' | 'producerKeyId' | 'producerKey' | OidcKeys> & {
  /** Single sign-on, when `LIVESCOPE_API_OIDC_ISSUER` is set. */
  readonly oidc: OidcConfig | undefined;
  readonly jwt: {
    /** Where roles come from (`LIVESCOPE_API_ROLES_CLAIM`, `LIVESCOPE_API_ROLE_MAPPING`). */
    readonly roles: RoleSource;
    readonly keys: readonly TrustedTokenKey[];
    readonly jwksUrl: string | undefined;
    readonly issuer: string;
    readonly audience: string;
    readonly clockToleranceMs: number;
    /** The claim (`name=value`) that marks a person; only persons approve escalations. Default `kind=human`. */
    readonly personClaim: { readonly name: string; readonly value: string };
  };
  /** The producer key that signs what the control plane publishes (the workers' keyring names what it may send). */
  readonly producerKeyId: string;
  readonly producerKey: string;
  /** Development only: the key file `npm start` writes; its `api` key is trusted when no other key is configured. */
  readonly devKeysPath: string | undefined;
};

export function loadControlPlaneConfig(env: Env = process.env): ControlPlaneConfig {
  const c = loadConfig(controlPlaneOptions, env);
  const keys = c.jwtPublicKeys;
  if (c.oidcIssuer === undefined && (c.oidcConsoleClientId !== undefined || c.oidcCliClientId !== undefined)) {
    throw new ConfigError('LIVESCOPE_API_OIDC_CONSOLE_CLIENT_ID and LIVESCOPE_API_OIDC_CLI_CLIENT_ID need LIVESCOPE_API_OIDC_ISSUER: the OpenID provider the clients are registered at.', ['LIVESCOPE_API_OIDC_ISSUER']);
  }
  if (c.oidcIssuer !== undefined && env.LIVESCOPE_API_JWT_ISSUER !== undefined && env.LIVESCOPE_API_JWT_ISSUER !== c.oidcIssuer) {
    throw new ConfigError(`LIVESCOPE_API_JWT_ISSUER (${env.LIVESCOPE_API_JWT_ISSUER}) differs from LIVESCOPE_API_OIDC_ISSUER (${c.oidcIssuer}): tokens of the provider carry its issuer; leave LIVESCOPE_API_JWT_ISSUER unset.`, ['LIVESCOPE_API_JWT_ISSUER', 'LIVESCOPE_API_OIDC_ISSUER']);
  }
  if (c.oidcIssuer !== undefined && c.jwksUrl !== undefined) {
    throw new ConfigError('LIVESCOPE_API_JWKS_URL and LIVESCOPE_API_OIDC_ISSUER are exclusive: with an issuer, its keys come from its discovery document (jwks_uri).', ['LIVESCOPE_API_JWKS_URL', 'LIVESCOPE_API_OIDC_ISSUER']);
  }
  if (keys.length === 0 && c.jwksUrl === undefined && c.oidcIssuer === undefined && c.devKeys === undefined) {
    throw new ConfigError(
      'LIVESCOPE_API_OIDC_ISSUER (an OpenID provider), LIVESCOPE_API_JWT_PUBLIC_KEYS (JSON: key id → public key) or LIVESCOPE_API_JWKS_URL is required: every API call carries a bearer JWT. For development, LIVESCOPE_DEV_KEYS (set by `npm start`) trusts a local key pair.',
      ['LIVESCOPE_API_OIDC_ISSUER', 'LIVESCOPE_API_JWT_PUBLIC_KEYS', 'LIVESCOPE_API_JWKS_URL'],
    );
  }
  if (c.producerKeyId === undefined || c.producerKey === undefined) {
    throw new ConfigError(
      'LIVESCOPE_PRODUCER_KEY_ID and LIVESCOPE_PRODUCER_KEY (or LIVESCOPE_PRODUCER_KEY_FILE) are required: the control plane signs the orders, lifts and approvals it publishes, and the workers apply control events only from producer keys in their keyring (LIVESCOPE_PRODUCER_KEYS). `npm start` creates a development key; see docs/threat-model.md.',
      [...(c.producerKeyId === undefined ? ['LIVESCOPE_PRODUCER_KEY_ID'] : []), ...(c.producerKey === undefined ? ['LIVESCOPE_PRODUCER_KEY'] : [])],
    );
  }
  const eq = c.personClaim.indexOf('=');
  const out = reshapeConfig(c, ['jwtPublicKeys', 'jwksUrl', 'jwtIssuer', 'jwtAudience', 'jwtClockToleranceMs', 'devKeys', 'personClaim', 'producerKey', 'oidcIssuer', 'oidcConsoleClientId', 'oidcCliClientId', 'oidcScopes', 'oidcResource', 'rolesClaim', 'roleMapping'], {
    oidc: c.oidcIssuer === undefined ? undefined : { issuer: c.oidcIssuer, consoleClientId: c.oidcConsoleClientId, cliClientId: c.oidcCliClientId, scopes: c.oidcScopes, resource: c.oidcResource },
    jwt: {
      roles: { claim: c.rolesClaim, mapping: c.roleMapping },
      keys,
      jwksUrl: c.jwksUrl,
      issuer: c.oidcIssuer ?? c.jwtIssuer,
      audience: c.jwtAudience, clockToleranceMs: c.jwtClockToleranceMs, personClaim: { name: c.personClaim.slice(0, eq), value: c.personClaim.slice(eq + 1) } },
    devKeysPath: keys.length === 0 && c.jwksUrl === undefined && c.oidcIssuer === undefined ? c.devKeys : undefined,
  });
  // The private key stays a non-enumerable field, as loadConfig made it: it never reaches a log line.
  Object.defineProperty(out, 'producerKey', { value: c.producerKey, enumerable: false });
  return out as unknown as ControlPlaneConfig;
}
