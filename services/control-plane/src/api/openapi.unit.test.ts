import { Validator } from '@seriousme/openapi-schema-validator';
import { createLogger } from '@livescope/transport';
import { describe, expect, it } from 'vitest';
import { principalOf, type Principal } from '../auth/roles.js';
import { AuthenticationError } from '../auth/TokenVerifier.js';
import { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import { createApp } from '../http/createApp.js';
import { buildOpenApi, openApiPath } from '../http/openapi.js';
import { apiRoutes, type ApiServices } from './apiRoutes.js';

const notUsed = (): never => {
  throw new Error('not used in this test');
};
const services: ApiServices = {
  orders: {
    issueOrder: (actor, req) => Promise.resolve({ body: { orderId: 'o-1', eventId: 'cp-1', kind: req.kind, actor: actor.sub, target: req.target, expiresAt: null, acceptedAt: new Date().toISOString(), partitions: 3, statusUrl: '/v1/orders/o-1/status' }, replayed: false }),
    liftOrder: notUsed,
    activeOrders: () => Promise.resolve({ orders: [], partitions: 3 }),
    orderStatus: notUsed,
  },
  approvals: { grantApproval: notUsed, revokeApproval: notUsed },
  identities: { scope: notUsed, scopeAt: notUsed, history: notUsed, explain: notUsed, identities: notUsed },
  alerts: { alerts: notUsed, streamAlerts: notUsed, acknowledgeAlert: notUsed },
  enforcers: { enforcers: notUsed },
  me: {
    whoami: (p) => ({ sub: p.sub, roles: [...p.roles], can: { read: true, readAlerts: true, acknowledgeAlerts: true, issueOrders: false, liftOwnOrders: false, liftAnyOrder: false, grantApprovals: false } }),
  },
  fleet: { fleet: notUsed },
  changes: { changes: notUsed, streamChanges: notUsed },
  console: { consoleAsset: notUsed },
  operations: {
    readiness: () => Promise.resolve({ ready: true, checks: { kafka: 'ok', registry: 'ok', postgres: 'ok', consumers: 'ok' } }),
    metricsText: () => Promise.resolve({ contentType: 'text/plain', text: '# none\n' }),
  },
  openapi: { openApi: () => document },
  policies: { validate: notUsed, test: notUsed, current: notUsed, version: notUsed, diff: notUsed, impact: notUsed, publish: notUsed, rollback: notUsed, approve: notUsed, reject: notUsed, requests: notUsed, publication: notUsed, history: notUsed, status: notUsed },
  auth: { signInConfig: () => undefined },
};
const routes = apiRoutes(services);
const document = buildOpenApi(routes, { title: 'livescope control plane', version: '1.0.0' });

/** Tokens are opaque here: `role:sub`. */
const verifier = {
  verify(h: string | undefined): Promise<Principal> {
    if (!h) return Promise.reject(new AuthenticationError('missing', 'a bearer token is required'));
    const [role, sub] = h.replace(/^Bearer /, '').split(':');
    return Promise.resolve(principalOf(sub!, [role]));
  },
};

async function app(rateLimitPerMinute = 1000) {
  return createApp({ routes, verifier, metrics: new ControlPlaneMetrics(), logger: createLogger('test', 'silent'), rateLimits: { subjectPerMinute: rateLimitPerMinute, unauthenticatedPerMinute: 1000, publicPerMinute: 1000 }, validateResponses: true });
}

describe('the OpenAPI document', () => {
  it('is a structurally valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(document)) as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('describes exactly the routes Fastify registered, and is served at /openapi.json', async () => {
    const { app: a, registered } = await app();
    const documented = Object.entries(document.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(registered.map((r) => `${r.method} ${openApiPath(r.url)}`).sort()).toEqual(documented);
    const served = await a.inject({ method: 'GET', url: '/openapi.json' });
    expect(served.statusCode).toBe(200);
    expect(served.json()).toEqual(JSON.parse(JSON.stringify(document)));
    await a.close();
  });

  it('names request and response schemas as components and marks authenticated operations', () => {
    const issue = document.paths['/v1/orders']!.post as Record<string, unknown>;
    expect(issue).toMatchObject({ operationId: 'issueOrder', security: [{ bearerAuth: [] }], requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/IssueOrderRequest' } } } } });
    expect(Object.keys(issue.responses as object)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '429']));
    expect(document.components.schemas).toHaveProperty('OrderStatus');
    expect(document.components.schemas).toHaveProperty('Problem');
    expect((document.paths['/healthz']!.get as Record<string, unknown>).security).toEqual([]);
    const status = document.paths['/v1/orders/{orderId}/status']!.get as { parameters: { name: string; in: string; required: boolean }[] };
    expect(status.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'orderId', in: 'path', required: true }), expect.objectContaining({ name: 'waitMs', in: 'query', required: false })]));
  });
});

describe('API conventions', () => {
  const LIST_ENDPOINTS = ['/v1/orders', '/v1/identities', '/v1/identities/{identityId}/history', '/v1/alerts', '/v1/changes', '/v1/enforcers', '/v1/policies/requests', '/v1/policies/history'];

  it('pages every list endpoint one way: cursor and limit in, nextCursor out', () => {
    for (const p of LIST_ENDPOINTS) {
      const op = document.paths[p]!.get as { parameters: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> };
      expect(op.parameters.filter((x) => x.in === 'query').map((x) => x.name), p).toEqual(expect.arrayContaining(['cursor', 'limit']));
      expect(op.parameters.map((x) => x.name), p).not.toEqual(expect.arrayContaining(['before']));
      expect(op.parameters.map((x) => x.name), p).not.toEqual(expect.arrayContaining(['after']));
      const name = op.responses['200']!.content!['application/json']!.schema.$ref.split('/').pop()!;
      const schema = (document.components.schemas as Record<string, { properties: Record<string, unknown>; required: string[] }>)[name]!;
      expect(schema.required, `${p} → ${name}`).toContain('nextCursor');
    }
  });

  it('answers every error as an RFC 9457 problem, with a Bearer challenge on 401', () => {
    for (const [p, ops] of Object.entries(document.paths)) {
      for (const [m, op] of Object.entries(ops as Record<string, { responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> }>)) {
        for (const [status, r] of Object.entries(op.responses)) {
          // Readiness answers 503 with its own body (which dependency is not ready), not a problem.
          if (Number(status) < 400 || (p === '/readyz' && status === '503')) continue;
          expect(Object.keys(r.content ?? {}), `${m} ${p} ${status}`).toEqual(['application/problem+json']);
          if (status === '401') expect(r.headers, `${m} ${p}`).toHaveProperty('WWW-Authenticate');
        }
      }
    }
  });
});

describe('the HTTP layer', () => {
  it('answers an invalid body with 400 naming the failing field paths', async () => {
    const { app: a } = await app();
    const r = await a.inject({ method: 'POST', url: '/v1/orders', headers: { authorization: 'Bearer responder:alice' }, payload: { kind: 'quarantine', target: { identityId: 'has space' }, reason: '' } });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'INVALID_REQUEST', paths: expect.arrayContaining(['target.identityId', 'reason']) as unknown });
    const bad = await a.inject({ method: 'POST', url: '/v1/orders', headers: { authorization: 'Bearer responder:alice', 'content-type': 'application/json' }, payload: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_REQUEST' });
    const q = await a.inject({ method: 'GET', url: '/v1/orders/o-1/status?waitMs=soon', headers: { authorization: 'Bearer soc:s' } });
    expect(q.statusCode).toBe(400);
    expect(q.json()).toMatchObject({ paths: ['query.waitMs'] });
    await a.close();
  });

  it('401 without a token, 403 with the wrong role, 202 with the right one, recording the subject as actor', async () => {
    const { app: a } = await app();
    const body = { kind: 'read-only', target: { identityId: 'w1' }, reason: 'INC-1' };
    expect((await a.inject({ method: 'POST', url: '/v1/orders', payload: body })).statusCode).toBe(401);
    expect((await a.inject({ method: 'POST', url: '/v1/orders', headers: { authorization: 'Bearer soc:s' }, payload: body })).statusCode).toBe(403);
    const ok = await a.inject({ method: 'POST', url: '/v1/orders', headers: { authorization: 'Bearer responder:alice' }, payload: body });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ orderId: 'o-1', actor: 'alice' });
    expect((await a.inject({ method: 'GET', url: '/nope' })).json()).toMatchObject({ code: 'NOT_FOUND' });
    await a.close();
  });

  it('rate-limits per verified subject with 429', async () => {
    const { app: a } = await app(3);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await a.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: 'Bearer soc:s' } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    expect((await a.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: 'Bearer soc:other' } })).statusCode).toBe(200);
    const limited = await a.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: 'Bearer soc:s' } });
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await a.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await a.close();
  });
});
