import { Writable } from 'node:stream';
import { StoreError } from '@livescope/store';
import { recordSpans, type SpanRecorder } from '@livescope/testkit';
import { createLogger, type Logger } from '@livescope/transport';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { principalOf, type Principal } from '../auth/roles.js';
import { AuthenticationError } from '../auth/TokenVerifier.js';
import { ControlPlaneError } from '../ControlPlaneError.js';
import { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import { createApp, type RateLimits } from './createApp.js';
import { route, type RouteDef } from './RouteDef.js';

/** A dependency's error as node-postgres would word it: a host, a port, SQL. */
const PG_TEXT = 'connect ECONNREFUSED 10.9.8.7:5432 while running SELECT secret FROM cp_orders';

const Ok = z.object({ ok: z.boolean() });
const routes: RouteDef[] = [
  route({ id: 'things', method: 'GET', path: '/v1/things', tag: 't', summary: 's', roles: ['soc'], success: { status: 200, description: 'd', schema: Ok }, handler: () => Promise.resolve({ ok: true }) }),
  route({
    id: 'postgresDown',
    method: 'GET',
    path: '/v1/postgres-down',
    tag: 't',
    summary: 's',
    roles: ['soc'],
    success: { status: 200, description: 'd', schema: Ok },
    handler: () => Promise.reject(new StoreError('PG_UNAVAILABLE', `read things: ${PG_TEXT}`, { cause: new Error(PG_TEXT) })),
  }),
  route({ id: 'bug', method: 'GET', path: '/v1/bug', tag: 't', summary: 's', roles: ['soc'], success: { status: 200, description: 'd', schema: Ok }, handler: () => Promise.reject(new TypeError(`cannot read ${PG_TEXT}`)) }),
  route({
    id: 'mayLand',
    method: 'GET',
    path: '/v1/may-land',
    tag: 't',
    summary: 's',
    roles: ['soc'],
    success: { status: 200, description: 'd', schema: Ok },
    handler: () => Promise.reject(new ControlPlaneError('UNAVAILABLE', `broker said ${PG_TEXT}`, { component: 'kafka', publicMessage: 'order o-1 may still be written' })),
  }),
  route({ id: 'echo', method: 'POST', path: '/v1/echo', tag: 't', summary: 's', roles: ['soc'], body: z.object({ n: z.number() }), success: { status: 200, description: 'd', schema: Ok }, handler: () => Promise.resolve({ ok: true }) }),
  route({ id: 'health', method: 'GET', path: '/healthz', tag: 't', summary: 's', roles: 'public', success: { status: 200, description: 'd', schema: Ok }, handler: () => Promise.resolve({ ok: true }) }),
];

/** Tokens are opaque here: `role:sub`, or `forged`; every check is counted. */
function countingVerifier(): { verify(h: string | undefined): Promise<Principal>; calls: number } {
  const v = {
    calls: 0,
    verify(h: string | undefined): Promise<Principal> {
      v.calls++;
      if (!h) return Promise.reject(new AuthenticationError('missing', 'a bearer token is required'));
      const t = h.replace(/^Bearer /, '');
      if (t === 'forged') return Promise.reject(new AuthenticationError('bad-signature', 'the token signature does not verify'));
      const [role, sub] = t.split(':');
      return Promise.resolve(principalOf(sub!, [role]));
    },
  };
  return v;
}

async function app(limits: Partial<RateLimits> = {}, trustedProxies: string[] = [], makeLogger: (sink: Writable) => Logger = (sink) => pino({ level: 'info' }, sink)) {
  const lines: string[] = [];
  const logger = makeLogger(new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  const verifier = countingVerifier();
  const metrics = new ControlPlaneMetrics();
  const { app: a } = await createApp({ routes, verifier, metrics, logger, rateLimits: { subjectPerMinute: 1000, unauthenticatedPerMinute: 1000, publicPerMinute: 1000, ...limits }, trustedProxies, validateResponses: true });
  const counter = async (c: 'tokenChecks' | 'rateLimited', labels: Record<string, string>): Promise<number> =>
    (await metrics[c].get()).values.find((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))?.value ?? 0;
  return { a, verifier, lines, counter };
}

const get = (url: string, from: string, token?: string, headers: Record<string, string> = {}) => ({ method: 'GET' as const, url, remoteAddress: from, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

describe('rate limits', () => {
  it('refuses requests without an accepted token per client address before checking the token', async () => {
    const { a, verifier, counter } = await app({ unauthenticatedPerMinute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await a.inject(get('/v1/things', '10.0.0.1', 'forged'))).statusCode);
    expect(statuses).toEqual([...Array<number>(5).fill(401), ...Array<number>(15).fill(429)]);
    expect(verifier.calls).toBe(5);
    expect(await counter('tokenChecks', { outcome: 'refused' })).toBe(5);
    expect(await counter('rateLimited', { budget: 'unauthenticated' })).toBe(15);
    const limited = await a.inject(get('/v1/things', '10.0.0.1', 'forged'));
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    // Until the address earns its budget back, even a good token from it is not checked.
    expect((await a.inject(get('/v1/things', '10.0.0.1', 'soc:s'))).statusCode).toBe(429);
    expect(verifier.calls).toBe(5);
    expect((await a.inject(get('/v1/things', '10.0.0.2', 'soc:s'))).statusCode).toBe(200);
    await a.close();
  });

  it('gives the address budget back for every accepted token', async () => {
    const { a, verifier } = await app({ unauthenticatedPerMinute: 5 });
    for (let i = 0; i < 20; i++) expect((await a.inject(get('/v1/things', '10.0.0.3', 'soc:s'))).statusCode).toBe(200);
    expect(verifier.calls).toBe(20);
    await a.close();
  });

  it('counts a path that exists nowhere against the address', async () => {
    const { a } = await app({ unauthenticatedPerMinute: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await a.inject(get('/nowhere', '10.0.0.5'))).statusCode);
    expect(statuses).toEqual([404, 404, 429]);
    expect((await a.inject(get('/v1/things', '10.0.0.5', 'soc:s'))).statusCode).toBe(429);
    await a.close();
  });

  it('limits each token subject wherever its requests come from', async () => {
    const { a } = await app({ subjectPerMinute: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await a.inject(get('/v1/things', `10.1.0.${i}`, 'soc:sam'))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await a.inject(get('/v1/things', '10.1.0.9', 'soc:sam'));
    expect(limited.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const other = await a.inject(get('/v1/things', '10.1.0.0', 'soc:kim'));
    expect(other.statusCode).toBe(200);
    expect(other.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2' });
    await a.close();
  });

  it('gives the open routes a budget of their own: refused tokens do not starve the probes', async () => {
    const { a, counter } = await app({ unauthenticatedPerMinute: 2, publicPerMinute: 3 });
    for (let i = 0; i < 5; i++) await a.inject(get('/v1/things', '10.0.0.4', 'forged'));
    const probes = [];
    for (let i = 0; i < 4; i++) probes.push((await a.inject(get('/healthz', '10.0.0.4'))).statusCode);
    expect(probes).toEqual([200, 200, 200, 429]);
    expect(await counter('rateLimited', { budget: 'public' })).toBe(1);
    expect((await a.inject(get('/healthz', '10.0.0.6'))).statusCode).toBe(200);
    await a.close();
  });

  it('reads the client address from X-Forwarded-For only behind a trusted proxy', async () => {
    const forwarded = (client: string) => get('/healthz', '127.0.0.1', undefined, { 'x-forwarded-for': client });
    const direct = await app({ publicPerMinute: 1 });
    expect((await direct.a.inject(forwarded('198.51.100.1'))).statusCode).toBe(200);
    expect((await direct.a.inject(forwarded('198.51.100.2'))).statusCode).toBe(429);
    await direct.a.close();
    const proxied = await app({ publicPerMinute: 1 }, ['127.0.0.1']);
    expect((await proxied.a.inject(forwarded('198.51.100.1'))).statusCode).toBe(200);
    expect((await proxied.a.inject(forwarded('198.51.100.2'))).statusCode).toBe(200);
    expect((await proxied.a.inject(forwarded('198.51.100.1'))).statusCode).toBe(429);
    await proxied.a.close();
  });
});

describe('error answers', () => {
  it('name the failing component of a 5xx but never its error, which is logged under the correlation id', async () => {
    const { a, lines } = await app();
    const r = await a.inject(get('/v1/postgres-down', '10.2.0.1', 'soc:s'));
    expect(r.statusCode).toBe(503);
    const correlationId = r.headers['x-request-id'] as string;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json()).toEqual({ type: 'urn:livescope:problem:unavailable', title: 'Service unavailable', status: 503, detail: 'PostgreSQL unavailable; retry later', instance: `urn:uuid:${correlationId}`, code: 'UNAVAILABLE', component: 'postgres', correlationId });
    expect(r.body).not.toMatch(/ECONNREFUSED|10\.9\.8\.7|SELECT/);
    const logged = lines.map((l) => JSON.parse(l) as { reqId?: string; err?: { message: string; stack: string } }).find((l) => l.reqId === correlationId && l.err);
    expect(logged?.err?.message).toContain(PG_TEXT);
    expect(logged?.err?.stack).toContain('StoreError');
    await a.close();
  });

  it('answer a defect with 500 "internal error", and a 503 with the text written for it', async () => {
    const { a } = await app();
    const bug = await a.inject(get('/v1/bug', '10.2.0.2', 'soc:s'));
    expect(bug.statusCode).toBe(500);
    expect(bug.json()).toMatchObject({ code: 'INTERNAL', detail: 'internal error' });
    expect(bug.body).not.toContain('ECONNREFUSED');
    const mayLand = await a.inject(get('/v1/may-land', '10.2.0.2', 'soc:s'));
    expect(mayLand.json()).toMatchObject({ code: 'UNAVAILABLE', detail: 'order o-1 may still be written', component: 'kafka' });
    expect(mayLand.body).not.toContain('ECONNREFUSED');
    await a.close();
  });

  it('keep the helpful message of a 4xx, with the correlation id', async () => {
    const { a } = await app();
    const r = await a.inject({ method: 'POST', url: '/v1/echo', remoteAddress: '10.2.0.3', headers: { authorization: 'Bearer soc:s' }, payload: { n: 'one' } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'INVALID_REQUEST', paths: ['n'], detail: expect.stringContaining('n') as unknown, correlationId: r.headers['x-request-id'] });
    await a.close();
  });

  it('challenge every 401 with WWW-Authenticate: Bearer, naming invalid_token only when a token was presented', async () => {
    const { a } = await app();
    const none = await a.inject(get('/v1/things', '10.2.0.4'));
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="livescope"');
    expect(none.json()).toMatchObject({ type: 'urn:livescope:problem:unauthenticated', title: 'Authentication required', status: 401, code: 'UNAUTHENTICATED' });
    const forged = await a.inject(get('/v1/things', '10.2.0.4', 'forged'));
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['www-authenticate']).toBe('Bearer realm="livescope", error="invalid_token", error_description="the token signature does not verify"');
    expect(forged.headers['content-type']).toMatch(/^application\/problem\+json/);
    const unknownRoute = await a.inject(get('/v1/nowhere', '10.2.0.4'));
    expect(unknownRoute.json()).toMatchObject({ status: 404, code: 'NOT_FOUND', type: 'urn:livescope:problem:not-found' });
    await a.close();
  });
});

describe('tracing (OpenTelemetry)', () => {
  let recorder: SpanRecorder;
  beforeAll(() => (recorder = recordSpans()));
  afterAll(() => recorder.stop());

  it('one server span per API request, child of the caller’s traceparent, with route and status; none on the open routes; the request line carries the trace id', async () => {
    const TRACE = '0af7651916cd43dd8448eb211c80319c';
    const CALLER = 'b7ad6b7169203331';
    const { a, lines } = await app({}, [], (sink) => createLogger('control-plane', 'info', {}, sink));
    expect((await a.inject(get('/v1/things', '10.0.0.9', 'soc:s', { traceparent: `00-${TRACE}-${CALLER}-01` }))).statusCode).toBe(200);
    expect((await a.inject(get('/v1/postgres-down', '10.0.0.9', 'soc:s'))).statusCode).toBe(503);
    expect((await a.inject(get('/healthz', '10.0.0.9'))).statusCode).toBe(200);
    await a.close();
    const [things, down, ...more] = recorder.spans();
    expect(more).toEqual([]);
    expect(things!).toMatchObject({ name: 'GET /v1/things', kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.route': '/v1/things', 'http.response.status_code': 200 } });
    expect(things!.spanContext().traceId).toBe(TRACE);
    expect(things!.parentSpanContext?.spanId).toBe(CALLER);
    expect(down!).toMatchObject({ name: 'GET /v1/postgres-down', attributes: { 'http.response.status_code': 503 }, status: { code: SpanStatusCode.ERROR } });
    expect(down!.parentSpanContext).toBeUndefined();
    const requestLines = lines.map((l) => JSON.parse(l) as { msg: string; route?: string; trace_id?: string; span_id?: string }).filter((l) => l.msg === 'request');
    expect(requestLines.find((l) => l.route === '/v1/things')).toMatchObject({ trace_id: TRACE, span_id: things!.spanContext().spanId });
  });
});
