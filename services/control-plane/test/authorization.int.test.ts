import { identityEvent } from '@livescope/contracts';
import { waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/roles.js';
import { Harness } from './support/harness.js';

/**
 * The authorisation matrix over a running control plane: every role against every route, and
 * missing, expired, forged, wrong-audience, wrong-issuer and unknown-key tokens everywhere.
 */
const h = new Harness();
const T = Date.now();
let id: string;
let orderId: string;
const tokens = {} as Record<Role | 'none-role', string>;

beforeAll(async () => {
  await h.open();
  id = `m-${h.fx.id}`;
  await h.publish([
    identityEvent('identity.created', id, { kind: 'workload', name: 'matrix', namespace: 'payments', owner: 'team-pay' }, { id: `${id}/1`, time: T }),
    identityEvent('entitlement.granted', id, { grantId: 'g-1', role: 'db', permissions: [{ action: 'db:read', resource: 'db/x', access: 'read' }] }, { id: `${id}/2`, time: T }),
  ]);
  await h.scopeWhere(id, (s) => s.permissions.length === 1);
  for (const r of ['responder', 'approver', 'soc', 'admin'] as const) tokens[r] = await h.token([r], `${r}-user`);
  tokens['none-role'] = await h.token([], 'nobody');
  tokens.responder = await h.token(['responder'], 'alice');
  const o = await h.api('POST', '/v1/orders', tokens.responder, { kind: 'deny-actions', target: { identityId: id }, actions: ['db:drop'], reason: 'matrix' });
  expect(o.status).toBe(202);
  orderId = (o.json as { orderId: string }).orderId;
});

afterAll(async () => {
  await h.close();
});

const matrixPolicies = [{ id: 'base', text: 'permit (principal, action, resource);' }];

interface Case {
  readonly method: 'GET' | 'POST';
  /** Route template as registered. */
  readonly route: string;
  readonly path: () => string;
  readonly body?: () => unknown;
  readonly allowed: readonly Role[];
  /** Status when allowed. */
  readonly ok: number;
}

const cases: Case[] = [
  { method: 'POST', route: '/v1/orders', path: () => '/v1/orders', body: () => ({ kind: 'read-only', target: { identityId: `ghost-${h.fx.id}` }, reason: 'matrix' }), allowed: ['responder', 'admin'], ok: 202 },
  { method: 'GET', route: '/v1/orders', path: () => '/v1/orders', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/orders/:orderId/status', path: () => `/v1/orders/${orderId}/status`, allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/identities/:identityId/scope', path: () => `/v1/identities/${id}/scope`, allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/identities/:identityId/scope/versions/:version', path: () => `/v1/identities/${id}/scope/versions/1`, allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/identities/:identityId/history', path: () => `/v1/identities/${id}/history`, allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/identities/:identityId/explain', path: () => `/v1/identities/${id}/explain?action=db:read&resource=db/x`, allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'POST', route: '/v1/identities/:identityId/approvals', path: () => `/v1/identities/${id}/approvals`, body: () => ({ escalation: 'secret-retrieval', ttlSeconds: 60 }), allowed: ['approver', 'admin'], ok: 202 },
  // Authorised callers reach the handler, which finds no such approval.
  { method: 'POST', route: '/v1/identities/:identityId/approvals/:approvalId/revoke', path: () => `/v1/identities/${id}/approvals/ap-none/revoke`, allowed: ['responder', 'approver', 'admin'], ok: 404 },
  { method: 'GET', route: '/v1/alerts', path: () => '/v1/alerts', allowed: ['responder', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/alerts/stream', path: () => '/v1/alerts/stream', allowed: ['responder', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/enforcers', path: () => '/v1/enforcers', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  // Authorised callers reach the handler, which finds no such alert.
  { method: 'POST', route: '/v1/alerts/:id/ack', path: () => '/v1/alerts/999999999/ack', body: () => ({ note: 'matrix' }), allowed: ['responder', 'soc', 'admin'], ok: 404 },
  { method: 'GET', route: '/v1/identities', path: () => '/v1/identities?limit=5', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/fleet', path: () => '/v1/fleet', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/changes', path: () => '/v1/changes', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/changes/stream', path: () => '/v1/changes/stream', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/me', path: () => '/v1/me', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/policies', path: () => '/v1/policies', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'POST', route: '/v1/policies/validate', path: () => '/v1/policies/validate', body: () => ({ files: matrixPolicies }), allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'POST', route: '/v1/policies/test', path: () => '/v1/policies/test', body: () => ({ files: matrixPolicies, suites: [{ name: 'm', content: { tests: [{ name: 't', at: new Date(T).toISOString(), identity: { id: 'x', kind: 'agent', namespace: 'n' }, entitlements: [], cases: [{ action: 'db:read', resource: 'db/x', expect: 'deny' }] }] } }] }), allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'POST', route: '/v1/policies/diff', path: () => '/v1/policies/diff', body: () => ({ to: { files: matrixPolicies } }), allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'POST', route: '/v1/policies/impact', path: () => '/v1/policies/impact', body: () => ({ files: matrixPolicies }), allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  // Held for a second admin: the matrix publishes nothing (a second call returns the same pending request).
  { method: 'POST', route: '/v1/policies/publish', path: () => '/v1/policies/publish', body: () => ({ files: matrixPolicies, requireApproval: true }), allowed: ['approver', 'admin'], ok: 202 },
  // Authorised callers reach the handler, which knows no such version or request.
  { method: 'POST', route: '/v1/policies/rollback', path: () => '/v1/policies/rollback', body: () => ({ version: 999_999_999 }), allowed: ['approver', 'admin'], ok: 404 },
  { method: 'GET', route: '/v1/policies/requests', path: () => '/v1/policies/requests', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/policies/requests/:requestId', path: () => '/v1/policies/requests/pr-none', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 404 },
  { method: 'POST', route: '/v1/policies/requests/:requestId/approve', path: () => '/v1/policies/requests/pr-none/approve', body: () => ({}), allowed: ['admin'], ok: 404 },
  { method: 'POST', route: '/v1/policies/requests/:requestId/reject', path: () => '/v1/policies/requests/pr-none/reject', body: () => ({}), allowed: ['approver', 'admin'], ok: 404 },
  { method: 'GET', route: '/v1/policies/history', path: () => '/v1/policies/history', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
  { method: 'GET', route: '/v1/policies/versions/:version', path: () => '/v1/policies/versions/999999999', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 404 },
  { method: 'GET', route: '/v1/policies/versions/:version/status', path: () => '/v1/policies/versions/999999999/status', allowed: ['responder', 'approver', 'soc', 'admin'], ok: 200 },
];
/** Lifting is checked on its own: it depends on who issued the order. */
const LIFT_ROUTE = '/v1/orders/:orderId/lift';

async function call(c: Pick<Case, 'method' | 'path' | 'body'>, token: string | undefined): Promise<number> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const body = c.body?.();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const ctl = new AbortController();
  const res = await fetch(`${h.cp.url}${c.path()}`, { method: c.method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: ctl.signal });
  // Streams stay open: the status line is the answer.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) ctl.abort();
  else await res.text();
  return res.status;
}

describe('authorisation matrix', () => {
  it('covers every authenticated route the server registered', () => {
    const authenticated = h.cp.registeredRoutes.filter((r) => r.url.startsWith('/v1/')).map((r) => `${r.method} ${r.url}`);
    expect([...cases.map((c) => `${c.method} ${c.route}`), `POST ${LIFT_ROUTE}`].sort()).toEqual(authenticated.sort());
  });

  it('each role × each route: allowed roles get the route answer, the others 403', async () => {
    const table: string[] = [];
    for (const c of cases) {
      for (const role of ['responder', 'approver', 'soc', 'admin'] as const) {
        const status = await call(c, tokens[role]);
        const expected = c.allowed.includes(role) ? c.ok : 403;
        table.push(`${c.method} ${c.route} as ${role}: ${status}${status === expected ? '' : ` (expected ${expected})`}`);
      }
      const noRole = await call(c, tokens['none-role']);
      table.push(`${c.method} ${c.route} with no role: ${noRole}${noRole === 403 ? '' : ' (expected 403)'}`);
    }
    expect(table.filter((l) => l.includes('expected'))).toEqual([]);
  });

  it('missing, expired, forged, wrong-audience, wrong-issuer and unknown-key tokens get 401 on every route', async () => {
    const bad = {
      missing: undefined,
      expired: await h.token(['admin'], 'eve', { expiresInSec: -120 }),
      forged: await h.token(['admin'], 'eve', { key: h.strangerKey.privateKey }),
      'wrong-audience': await h.token(['admin'], 'eve', { audience: 'another-api' }),
      'wrong-issuer': await h.token(['admin'], 'eve', { issuer: 'https://evil.test' }),
      'unknown-key': await h.token(['admin'], 'eve', { kid: 'k-unknown', key: h.strangerKey.privateKey }),
      garbage: 'not-a-jwt',
    };
    const wrong: string[] = [];
    for (const c of [...cases, { method: 'POST' as const, route: LIFT_ROUTE, path: () => `/v1/orders/${orderId}/lift`, body: () => ({}), allowed: [], ok: 0 }]) {
      for (const [name, token] of Object.entries(bad)) {
        const status = await call(c, token);
        if (status !== 401) wrong.push(`${c.method} ${c.route} with ${name} token: ${status}`);
      }
    }
    expect(wrong).toEqual([]);
    const metrics = await fetch(`${h.cp.url}/metrics`).then((r) => r.text());
    for (const reason of ['missing', 'expired', 'bad-signature', 'wrong-audience', 'wrong-issuer', 'unknown-key', 'malformed']) expect(metrics).toMatch(new RegExp(`livescope_control_plane_auth_failures_total\\{reason="${reason}"\\} \\d+`));
  });

  it('lifting: a responder its own orders only, an approver and an admin any, a SOC analyst none', async () => {
    const issue = async (): Promise<string> => {
      const r = await h.api('POST', '/v1/orders', tokens.responder, { kind: 'read-only', target: { identityId: id }, reason: 'lift matrix' });
      expect(r.status).toBe(202);
      return (r.json as { orderId: string }).orderId;
    };
    const mallory = await h.token(['responder'], 'mallory');
    const lift = (token: string): Promise<number> => call({ method: 'POST', path: () => `/v1/orders/${current}/lift`, body: () => ({ reason: 'matrix' }) }, token);
    let current = await issue();
    expect(await lift(mallory)).toBe(403);
    expect(await lift(tokens.soc)).toBe(403);
    expect(await lift(tokens['none-role'])).toBe(403);
    expect(await lift(tokens.responder)).toBe(202);
    expect(await lift(tokens.responder)).toBe(409);
    current = await issue();
    expect(await lift(tokens.approver)).toBe(202);
    current = await issue();
    expect(await lift(tokens.admin)).toBe(202);
    current = 'o-unknown';
    expect(await lift(tokens.admin)).toBe(404);
  });

  it('checks credentials before the body, and names the failing fields of an invalid body', async () => {
    const invalid = { method: 'POST' as const, path: () => '/v1/orders', body: () => ({ kind: 'deny-actions', target: { identityId: id }, reason: 'x' }) };
    expect(await call(invalid, undefined)).toBe(401);
    expect(await call(invalid, tokens.soc)).toBe(403);
    const r = await h.api('POST', '/v1/orders', tokens.responder, invalid.body());
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 'INVALID_REQUEST', paths: ['actions'] });
    const ttl = await h.api('POST', '/v1/orders', tokens.responder, { kind: 'quarantine', target: { identityId: id }, reason: 'x', ttlSeconds: 10 ** 9 });
    expect(ttl).toMatchObject({ status: 400, json: { paths: ['ttlSeconds'] } });
  });

  it('leaves the operational routes open', async () => {
    for (const path of ['/healthz', '/metrics', '/openapi.json']) expect(await call({ method: 'GET', path: () => path }, undefined)).toBe(200);
    // Readiness is open too; it answers 503 while a dependency is slow to answer its probe (the
    // registry under a loaded machine), so wait for the dependencies rather than assert one probe.
    await waitFor('/readyz to answer 200 without a token (dependencies slow to answer)', async () => (await call({ method: 'GET', path: () => '/readyz' }, undefined)) === 200, 30_000, 250);
  });

  it('tells each role what it may do (GET /v1/me), as the routes enforce it', async () => {
    const can = async (role: Role): Promise<Record<string, boolean>> => ((await h.api('GET', '/v1/me', tokens[role])).json as { can: Record<string, boolean> }).can;
    expect(await can('soc')).toMatchObject({ read: true, readAlerts: true, acknowledgeAlerts: true, issueOrders: false, liftOwnOrders: false, liftAnyOrder: false, grantApprovals: false });
    expect(await can('responder')).toMatchObject({ issueOrders: true, liftOwnOrders: true, liftAnyOrder: false, grantApprovals: false, readAlerts: true });
    expect(await can('approver')).toMatchObject({ issueOrders: false, liftAnyOrder: true, grantApprovals: true, readAlerts: false });
    expect(await can('admin')).toMatchObject({ issueOrders: true, liftAnyOrder: true, grantApprovals: true, readAlerts: true });
    expect((await h.api('GET', '/v1/me', tokens.responder)).json).toMatchObject({ sub: 'alice', roles: ['responder'] });
  });
});
