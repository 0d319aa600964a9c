import { request } from 'node:http';
import { identityEvent } from '@livescope/contracts';
import { PipelineFixture, WorkerProcess, waitFor } from '@livescope/testkit';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, ConfigError, loadAgentConfig, type CheckResult } from '../src/index.js';

/**
 * The agent against the real broker and a real scope worker: identity sources (JWT against a JWKS,
 * SPIFFE from a forwarded client certificate, a trusted header) and hostile input on every API.
 */
let fx: PipelineFixture;
let worker: WorkerProcess;
let agent: Agent;
let base: string;
let signing: CryptoKey;
let otherKey: CryptoKey;
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'livescope-agent';
const reader = (): string => `sa-reader-${fx.id}`;
const spiffeId = (): string => `spiffe://cluster.test/ns/shop/sa/${fx.id}`;

const ROUTES = [
  { methods: ['GET'], path: '/orders/{id}', action: 'orders:read', resource: 'orders/{id}' },
  { methods: ['POST'], path: '/orders/{id}', action: 'orders:write', resource: 'orders/{id}' },
  { path: '/files/{rest*}', action: 'files:read', resource: 'files/{rest}' },
];

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  // From its sources: the integration tier runs before anything is built.
  worker = new WorkerProcess('agent-int-worker', fx.workerEnv(), [], { sourceEntry: 'services/scope-worker/src/main.ts' }).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  const keys = await generateKeyPair('ES256', { extractable: true });
  signing = keys.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const t = Date.now();
  const grant = (id: string, action: string, resource: string) => identityEvent('entitlement.granted', id, { grantId: `g-${action}`, role: 'r', permissions: [{ action, resource, access: 'read' }] }, { id: `g-${id}-${action}`, time: t });
  for (const id of [reader(), spiffeId(), `hdr-${fx.id}`]) {
    await fx.publish([identityEvent('identity.created', id, { kind: 'workload', name: 'x', namespace: 'shop', owner: 'o' }, { id: `c-${id}`, time: t }), grant(id, 'orders:read', 'orders/42'), grant(id, 'files:read', 'files/a/b.txt')]);
  }
  const config = loadAgentConfig({
    ...fx.workerEnv(),
    LIVESCOPE_ENFORCER_ID: `agent-int-${fx.id}`,
    LIVESCOPE_ENFORCER_TRUSTED_KEYS: JSON.stringify({ [fx.keys.kid]: fx.keys.publicKey }),
    LIVESCOPE_AGENT_PORT: '0',
    LIVESCOPE_AGENT_IDENTITY_SOURCES: 'jwt,spiffe,header',
    LIVESCOPE_AGENT_JWKS: JSON.stringify({ keys: [jwk] }),
    LIVESCOPE_AGENT_JWT_ISSUER: ISSUER,
    LIVESCOPE_AGENT_JWT_AUDIENCE: AUDIENCE,
    LIVESCOPE_AGENT_SPIFFE_TRUST_DOMAINS: 'cluster.test',
    LIVESCOPE_AGENT_IDENTITY_HEADER: 'x-test-identity',
    LIVESCOPE_AGENT_ROUTES: JSON.stringify(ROUTES),
    LIVESCOPE_AGENT_MAX_BODY_BYTES: '4096',
    LIVESCOPE_AGENT_MAX_BATCH: '5',
    LIVESCOPE_AGENT_TRUST_CALLER_IDENTITY: 'false',
    LIVESCOPE_AGENT_JWT_CLOCK_TOLERANCE_S: '0',
  });
  agent = new Agent(config, fx.logger, { flushIntervalMs: 200 });
  await agent.start();
  base = `http://127.0.0.1:${agent.httpPort}`;
  await waitFor('the three identities at the agent', () => [reader(), spiffeId(), `hdr-${fx.id}`].every((id) => agent.enforcer.authorize(id, undefined, 'orders:read', 'orders/42').allowed) || undefined, 60_000, 50);
});

afterAll(async () => {
  await agent?.stop();
  await worker?.stop();
  await fx?.close();
});

const token = (claims: Record<string, unknown> = {}, o: { key?: CryptoKey; aud?: string; iss?: string; exp?: string | number } = {}): Promise<string> =>
  new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setSubject(reader())
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? signing);

async function forwardAuth(uri: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers }> {
  const r = await fetch(`${base}/v1/forward-auth`, { headers: { 'x-original-method': method, 'x-original-uri': uri, 'x-original-host': 'shop.test', ...headers } });
  await r.arrayBuffer();
  return { status: r.status, headers: r.headers };
}

async function check(body: unknown): Promise<{ status: number; json: CheckResult & { error?: string; results?: CheckResult[] } }> {
  const r = await fetch(`${base}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as CheckResult & { error?: string } };
}

describe('livescope-enforcer identity sources', () => {
  it('a bearer JWT verified against the JWKS: its subject is the identity', async () => {
    const ok = await forwardAuth('/orders/42', { authorization: `Bearer ${await token()}` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-livescope-decision')).toBe('allowed');
    expect(ok.headers.get('x-livescope-identity')).toBe(reader());
    const write = await forwardAuth('/orders/42', { authorization: `Bearer ${await token()}` }, 'POST');
    expect(write.status).toBe(403);
    expect(write.headers.get('x-livescope-code')).toBe('not-in-scope');
    expect(write.headers.get('x-livescope-reason')).toContain('orders:write');
  });

  it('refuses a forged token, a wrong audience or issuer, an expired token and alg none', async () => {
    const claims = { sub: reader() };
    const cases: Array<[string, string]> = [
      ['forged (signed by another key)', await token({}, { key: otherKey })],
      ['wrong audience', await token({}, { aud: 'someone-else' })],
      ['wrong issuer', await token({}, { iss: 'https://evil.test' })],
      ['expired', await token({}, { exp: Math.floor(Date.now() / 1000) - 3600 })],
      ['alg none', new UnsecuredJWT(claims).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode()],
      ['tampered payload', (await token()).replace(/^([^.]+)\.([^.]+)\./, (_, h: string, p: string) => `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: spiffeId() })).toString('base64url')}.`)],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [what, t] of cases) {
      const r = await forwardAuth('/orders/42', { authorization: `Bearer ${t}` });
      expect(r.status, what).toBe(403);
      expect(r.headers.get('x-livescope-code'), what).toBe('unauthenticated');
      // The reason names the check that failed, never the token.
      expect(r.headers.get('x-livescope-reason'), what).not.toContain(t.slice(0, 20));
    }
    // A token that is present but refused never falls through to a weaker source.
    const r = await forwardAuth('/orders/42', { authorization: `Bearer ${await token({}, { key: otherKey })}`, 'x-test-identity': reader() });
    expect(r.status).toBe(403);
  });

  it('a remembered token is refused once it expires: the cache never outlives exp', async () => {
    const short = await token({}, { exp: Math.floor(Date.now() / 1000) + 2 });
    const auth = { authorization: `Bearer ${short}` };
    expect((await forwardAuth('/orders/42', auth)).status).toBe(200);
    expect((await forwardAuth('/orders/42', auth)).status).toBe(200);
    const denied = await waitFor('the remembered token to expire (bound 10 s)', async () => {
      const r = await forwardAuth('/orders/42', auth);
      return r.status === 403 ? r : undefined;
    }, 10_000, 100);
    expect(denied.headers.get('x-livescope-reason')).toContain('ERR_JWT_EXPIRED');
  });

  it('a SPIFFE ID from the forwarded client certificate, of a trusted trust domain only, one certificate only', async () => {
    const xfcc = (uri: string): string => `By=spiffe://cluster.test/ns/shop/sa/gateway;Hash=abc123;Subject="CN=x,O=y";URI=${uri}`;
    expect((await forwardAuth('/orders/42', { 'x-forwarded-client-cert': xfcc(spiffeId()) })).status).toBe(200);
    const denied = async (value: string, what: string): Promise<void> => {
      const r = await forwardAuth('/orders/42', { 'x-forwarded-client-cert': value });
      expect(r.status, what).toBe(403);
      expect(r.headers.get('x-livescope-code'), what).toBe('unauthenticated');
    };
    await denied(xfcc(spiffeId().replace('cluster.test', 'evil.test')), 'untrusted trust domain');
    await denied(`${xfcc('spiffe://cluster.test/ns/other')},${xfcc(spiffeId())}`, 'two certificates (an appended hop)');
    await denied(xfcc('spiffe://cluster.test/ns/../sa/x'), 'dot segments');
    await denied('By=x;URI="unterminated', 'unbalanced quote');
    await denied('Hash=abc', 'no SPIFFE ID');
  });

  it('a trusted header, only as the last source; the JSON API refuses an identity given as such unless configured', async () => {
    expect((await forwardAuth('/orders/42', { 'x-test-identity': `hdr-${fx.id}` })).status).toBe(200);
    expect((await forwardAuth('/orders/42', { 'x-test-identity': 'has space' })).status).toBe(403);
    expect((await forwardAuth('/orders/42')).headers.get('x-livescope-code')).toBe('unauthenticated');
    const r = await check({ identity: reader(), action: 'orders:read', resource: 'orders/42' });
    expect(r.json).toMatchObject({ allowed: false, code: 'unauthenticated' });
  });
});

describe('livescope-enforcer hostile input', () => {
  it('refuses path tricks instead of normalising them', async () => {
    const auth = { authorization: `Bearer ${await token()}` };
    expect((await forwardAuth('/orders/42?x=1', auth)).status).toBe(200);
    const attacks: Array<[string, string]> = [
      ['/orders/../admin/42', 'path-traversal'],
      ['/orders/%2e%2e/42', 'path-traversal'],
      ['/orders//42', 'path-traversal'],
      ['/files/a%2fb.txt', 'path-encoding'],
      ['/files/a%5cb.txt', 'path-encoding'],
      ['/files/a/b.txt%00', 'path-encoding'],
      ['/files/%252e%252e/b.txt', 'path-encoding'],
      ['/files/%zz', 'path-encoding'],
      [`/files/${'a'.repeat(3000)}`, 'path-too-long'],
      ['orders/42', 'bad-request'],
      ['/admin', 'unmapped'],
    ];
    for (const [uri, code] of attacks) {
      const r = await forwardAuth(uri, auth);
      expect(r.status, uri).toBe(403);
      expect(r.headers.get('x-livescope-code'), uri).toBe(code);
    }
    expect((await forwardAuth('/files/a/b.txt', auth)).status).toBe(200);
  });

  it('reads only the configured forward-auth headers: a client cannot describe its request with the other family', async () => {
    const auth = { authorization: `Bearer ${await token()}` };
    const r = await fetch(`${base}/v1/forward-auth`, { headers: { ...auth, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orders/42', 'x-forwarded-host': 'shop.test' } });
    expect(r.status).toBe(403);
    expect(r.headers.get('x-livescope-code')).toBe('bad-request');
    // NGINX's headers win over whatever a client added of the other family.
    expect((await forwardAuth('/admin', { ...auth, 'x-forwarded-uri': '/orders/42' })).headers.get('x-livescope-code')).toBe('unmapped');
  });

  it('the JSON API: a check by request or by action, bad JSON, unknown fields, an oversized body, a batch over the limit', async () => {
    const headers = { authorization: `Bearer ${await token()}` };
    expect((await check({ method: 'GET', host: 'shop.test', path: '/orders/42', headers })).json).toMatchObject({ allowed: true, code: 'allowed', identityId: reader(), action: 'orders:read', resource: 'orders/42' });
    expect((await check({ action: 'orders:read', resource: 'orders/43', headers })).json).toMatchObject({ allowed: false, code: 'not-in-scope' });
    expect((await check({ action: 'orders:read', method: 'GET', path: '/orders/42', resource: 'x', headers })).json).toMatchObject({ allowed: false, code: 'bad-request' });
    const post = (path: string, body: string, type = 'application/json') => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('/v1/check', '{"action":')).status).toBe(400);
    expect((await post('/v1/check', JSON.stringify({ action: 'a', resource: 'b', isAdmin: true }))).status).toBe(400);
    expect((await post('/v1/check', '{}', 'text/plain')).status).toBe(415);
    expect((await post('/v1/check', JSON.stringify({ action: 'a', resource: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await fetch(`${base}/v1/check`)).status).toBe(405);
    const one = { method: 'GET', path: '/orders/42', headers };
    const batch = await post('/v1/check/batch', JSON.stringify({ checks: [one, { ...one, method: 'POST' }, { ...one, path: '/../x' }] }));
    expect(batch.status).toBe(200);
    const { results } = (await batch.json()) as { results: CheckResult[] };
    expect(results.map((r) => r.code)).toEqual(['allowed', 'not-in-scope', 'path-traversal']);
    expect((await post('/v1/check/batch', JSON.stringify({ checks: Array.from({ length: 6 }, () => ({ action: 'a', resource: 'b' })) }))).status).toBe(413);
    expect((await post('/v1/check/batch', JSON.stringify({ checks: [] }))).status).toBe(400);
  });

  it('a body streamed past the limit without a length is cut off', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });
});

describe('livescope-enforcer watch, health and metrics', () => {
  it('streams the scope of an identity, then its narrowing', async () => {
    const ctrl = new AbortController();
    const r = await fetch(`${base}/v1/watch?identity=${encodeURIComponent(reader())}`, { signal: ctrl.signal });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const reader_ = r.body!.getReader();
    let text = '';
    const next = async (what: string, cond: (t: string) => boolean): Promise<void> => {
      await waitFor(what, async () => {
        const { value } = await reader_.read();
        text += Buffer.from(value ?? new Uint8Array()).toString();
        return cond(text) || undefined;
      }, 30_000, 0);
    };
    await next('the first scope', (t) => t.includes('"orders:read"'));
    // The worker's heartbeats arrive: the agent's view is fresh.
    expect(text).toMatch(/^event: (fresh|stale)\n/);
    await next('the view to be fresh', (t) => t.includes('event: fresh'));
    await fx.publish([identityEvent('entitlement.revoked', reader(), { grantId: 'g-orders:read' }, { id: `rv-${fx.id}`, time: Date.now() })]);
    await next('the narrowed scope', (t) => t.split('event: scope').length > 2 && !t.split('event: scope').pop()!.includes('"orders:read"'));
    ctrl.abort();
    expect((await forwardAuth('/orders/42', { authorization: `Bearer ${await token()}` })).status).toBe(403);
  });

  it('answers /healthz, /readyz and /metrics', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, checks: { enforcer: 'running', scope: 'read' } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/livescope_agent_checks_total\{api="forward-auth",outcome="allowed"\} \d+/);
    expect(metrics).toMatch(/livescope_agent_checks_total\{api="forward-auth",outcome="path-traversal"\} \d+/);
    expect(metrics).toContain('livescope_enforcer_identities');
  });
});

describe('livescope-enforcer configuration', () => {
  it('refuses to start without routes or trusted keys, with a JWT source lacking issuer or audience, or with an unknown source', () => {
    const fail = (env: Record<string, string>): readonly string[] => {
      try {
        loadAgentConfig(env);
      } catch (e) {
        if (ConfigError.is(e)) return e.variables;
        throw e;
      }
      return [];
    };
    expect(fail({ LIVESCOPE_AGENT_IDENTITY_SOURCES: 'jwt' })).toEqual(expect.arrayContaining(['LIVESCOPE_ENFORCER_TRUSTED_KEYS', 'LIVESCOPE_AGENT_ROUTES', 'LIVESCOPE_AGENT_JWT_ISSUER', 'LIVESCOPE_AGENT_JWT_AUDIENCE', 'LIVESCOPE_AGENT_JWKS_URL']));
    expect(fail({ LIVESCOPE_AGENT_IDENTITY_SOURCES: 'cookie' })).toContain('LIVESCOPE_AGENT_IDENTITY_SOURCES');
    expect(fail({ LIVESCOPE_AGENT_JWT_ALGORITHMS: 'none' })).toContain('LIVESCOPE_AGENT_JWT_ALGORITHMS');
    expect(fail({ LIVESCOPE_AGENT_JWT_ALGORITHMS: 'HS256' })).toContain('LIVESCOPE_AGENT_JWT_ALGORITHMS');
  });
});
