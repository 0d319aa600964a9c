import { broadcastEvent, identityEvent } from '@livescope/contracts';
import { waitFor } from '@livescope/testkit';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiPath } from '@livescope/control-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CliHarness } from './support/CliHarness.js';

/**
 * Issue 8 acceptance over the real pipeline: a responder quarantines an identity with the CLI, the
 * enforcer denies within a bound, the explanation names the order, the responder lifts it and
 * access returns; explanations of seed-like situations; alerts followed live; enforcement points.
 */
const h = new CliHarness({ enforcer: true });
const policy = (name: string): { id: string; text: string } => ({ id: name, text: readFileSync(new URL(`../../../examples/policies/${name}.cedar`, import.meta.url), 'utf8') });
const T = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
let responder: string;
let soc: string;
let approver: string;

beforeAll(async () => {
  await h.open();
  responder = await h.token(['responder'], 'alice');
  soc = await h.token(['soc'], 'sam');
  approver = await h.token(['approver'], 'carol');
  // The example Cedar set of seed scenario 2: everything provisioned, but secret retrieval only with an approved escalation.
  await h.publish([broadcastEvent('policies.published', { version: 1, policies: [policy('base'), policy('escalation')], publishedBy: 'platform' }, { id: `pol-${h.fx.id}`, time: T })]);
});

afterAll(async () => {
  await h.close();
});

describe('responder workflow through the CLI', () => {
  it('quarantines an identity, the enforcer denies, explain names the order, lifting restores access', async () => {
    const id = `pay-${h.fx.id}`;
    await h.publish([
      identityEvent('identity.created', id, { kind: 'workload', name: 'payments-api', namespace: 'payments', owner: 'team-pay' }, { id: `${id}/1`, time: T }),
      identityEvent('entitlement.granted', id, { grantId: 'g-db', role: 'db-writer', permissions: [{ action: 'db:write', resource: 'db/payments', access: 'write' }, { action: 'db:read', resource: 'db/payments', access: 'read' }] }, { id: `${id}/2`, time: T }),
      identityEvent('session.started', id, { sessionId: 's-1', task: 'settle', system: 'idp' }, { id: `${id}/3`, time: T }),
    ]);
    const enforcer = h.enforcer!;
    await waitFor('the enforcer to allow', () => enforcer.authorize(id, undefined, 'db:write', 'db/payments').allowed, 20_000);
    // A second enforcement point, the CLI's `watch`, prints its decisions as they change.
    const watching = new AbortController();
    const watchOut: string[] = [];
    const watch = h.cli(['watch', id, 'db:write', 'db/payments', '--interval', '20ms', '--for', '90s'], undefined, watching.signal, watchOut);
    await waitFor('the watch to allow', () => watchOut.join('').includes('ALLOWED (allowed)'), 60_000);

    const started = Date.now();
    const q = await h.cli(['--json', 'quarantine', id, '--reason', 'INC-42 credential stuffing', '--ttl', '2h', '--wait', '1', '--timeout', '60s'], responder);
    expect(q.stderr).toMatch(/applied by 1\/1 enforcement points/);
    expect(q.code).toBe(0);
    const { accepted, status } = JSON.parse(q.stdout) as { accepted: { orderId: string; actor: string; kind: string }; status: { satisfied: boolean; issue: { complete: boolean; identitiesChanged: number; revocations: number; enforcers: { applied: number; appliedBy: string[] } } } };
    expect(accepted).toMatchObject({ kind: 'quarantine', actor: 'alice' });
    expect(status.satisfied).toBe(true);
    expect(status.issue).toMatchObject({ complete: true, identitiesChanged: 1, enforcers: { applied: 1, appliedBy: [`gw-${h.fx.id}`] } });
    expect(status.issue.revocations).toBeGreaterThanOrEqual(1);
    // --wait returned once the enforcer acknowledged the version: it denies now.
    const denied = enforcer.authorize(id, undefined, 'db:write', 'db/payments');
    const elapsed = Date.now() - started;
    expect(denied.allowed).toBe(false);
    expect(elapsed).toBeLessThan(15_000);
    process.stdout.write(`quarantine via CLI → enforcer denial: ${elapsed} ms (${denied.code})\n`);
    await waitFor('the watch to deny', () => watchOut.join('').includes('DENIED (not-in-scope)'), 10_000);

    const orders = await h.cli(['--json', 'orders'], soc);
    expect(orders.code).toBe(0);
    expect((JSON.parse(orders.stdout) as { orders: { orderId: string; actor: string; partitions: { holding: number; total: number } }[] }).orders).toContainEqual(expect.objectContaining({ orderId: accepted.orderId, actor: 'alice', partitions: { holding: 3, total: 3 } }));

    const explained = await h.cli(['--json', 'explain', id, 'db:read', 'db/payments'], soc);
    expect(explained.code).toBe(0);
    expect(JSON.parse(explained.stdout)).toMatchObject({ allowed: false, orders: [{ orderId: accepted.orderId, kind: 'quarantine', actor: 'alice', reason: 'INC-42 credential stuffing' }], provisioned: [{ grantId: 'g-db', role: 'db-writer', jit: false }] });
    const human = await h.cli(['explain', id, 'db:read', 'db/payments'], soc);
    expect(human.stdout).toMatch(/^DENIED: .*denied by order/);

    // The denial at the enforcer is reported back and raised as an out-of-scope attempt.
    const follow = new AbortController();
    const followed = h.cli(['--json', 'alerts', '--follow', '--type', 'out-of-scope-attempt', '--identity', id, '--since-id', '0', '--max', '1'], soc, follow.signal);
    const out = (await followed).stdout;
    const alert = JSON.parse(out.trim().split('\n')[0]!) as { type: string; identityId: string };
    expect(alert).toMatchObject({ type: 'out-of-scope-attempt', identityId: id });

    const lifted = await h.cli(['--json', 'lift', accepted.orderId, '--reason', 'INC-42 contained', '--wait', '1', '--timeout', '60s'], responder);
    expect(lifted.code).toBe(0);
    expect(JSON.parse(lifted.stdout)).toMatchObject({ status: { satisfied: true, lift: { actor: 'alice', complete: true, identitiesChanged: 1, enforcers: { applied: 1 } } } });
    expect(enforcer.authorize(id, undefined, 'db:write', 'db/payments')).toMatchObject({ allowed: true });
    await waitFor('the watch to allow again', () => /DENIED[^]*ALLOWED \(allowed\)/.test(watchOut.join('')), 10_000);
    watching.abort();
    expect((await watch).code).toBe(0);
    expect((JSON.parse((await h.cli(['--json', 'orders'], soc)).stdout) as { orders: { orderId: string }[] }).orders.map((o) => o.orderId)).not.toContain(accepted.orderId);

    // History: the quarantine and the lift with their causes; the order is audited with its actor.
    const history = await h.api('GET', `/v1/identities/${id}/history?kinds=scope.change`, soc);
    const items = (history.json as { items: { summary: string; actor: string | null; direction: string }[] }).items;
    expect(items[0]).toMatchObject({ direction: 'widening', actor: 'alice' });
    expect(items[0]!.summary).toMatch(new RegExp(`order ${accepted.orderId} lifted by alice`));
    expect(items.some((i) => i.direction === 'narrowing' && i.summary.includes(`order ${accepted.orderId} by alice`))).toBe(true);
    const store = await h.fx.store();
    const { rows } = await store.query<{ actor: string; kind: string }>("SELECT actor, kind FROM audit_log WHERE kind IN ('order.issued', 'order.lifted') AND payload LIKE $1 ORDER BY seq", [`%${accepted.orderId}%`], 'audit of the order');
    // The audit names the actor the signed event carries, prefixed with the producer key that vouched for it.
    const vouched = `${h.cpProducerKey.kid}:alice`;
    expect(rows).toEqual([
      { actor: vouched, kind: 'order.issued' },
      { actor: vouched, kind: 'order.lifted' },
    ]);
    const verify = await h.cli(['audit', 'verify'], undefined);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/audit log intact/);
  });

  it('shows the scope with validUntil, a past version, and refuses a responder lifting another responder\'s order', async () => {
    const id = `ci-${h.fx.id}`;
    await h.publish([
      identityEvent('identity.created', id, { kind: 'ci-job', name: 'deployer', namespace: 'ci', owner: 'team-ci' }, { id: `${id}/1`, time: T }),
      identityEvent('entitlement.granted', id, { grantId: 'g-1', role: 'deployer', permissions: [{ action: 'k8s:deploy', resource: 'ns/ci', access: 'write' }, { action: 'k8s:read', resource: 'ns/ci', access: 'read' }] }, { id: `${id}/2`, time: T }),
    ]);
    await h.scopeWhere(id, (s) => s.permissions.length === 2);
    const narrowed = await h.cli(['--json', 'narrow', id, '--reason', 'audit', '--ttl', '30m', '--wait', '1', '--timeout', '60s'], responder);
    expect(narrowed.code).toBe(0);
    const orderId = (JSON.parse(narrowed.stdout) as { accepted: { orderId: string; expiresAt: string } }).accepted.orderId;
    const expiresAt = (JSON.parse(narrowed.stdout) as { accepted: { expiresAt: string } }).accepted.expiresAt;

    const scope = await h.cli(['--json', 'scope', id], soc);
    const view = JSON.parse(scope.stdout) as { version: number; permissions: { action: string; validUntil: string | null; sinceVersion: number | null }[] };
    expect(view.permissions).toEqual([expect.objectContaining({ action: 'k8s:read', validUntil: null, sinceVersion: 1 })]);
    const past = await h.cli(['--json', 'scope', id, '--version', '1'], soc);
    expect((JSON.parse(past.stdout) as { permissions: unknown[] }).permissions).toHaveLength(2);
    expect((await h.cli(['scope', id, '--version', String(view.version + 5)], soc)).code).toBe(1);

    const mallory = await h.token(['responder'], 'mallory');
    const refused = await h.cli(['lift', orderId], mallory);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/approver/);
    const byApprover = await h.cli(['--json', 'lift', orderId, '--reason', 'false positive'], approver);
    expect(byApprover.code).toBe(0);
    expect((await h.cli(['lift', orderId], approver)).code).toBe(1);
    await h.scopeWhere(id, (s) => s.permissions.length === 2);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 25 * 60_000);
  });
});

describe('one-shot revocation orders', () => {
  it('revokes a session, every lease of a secret and a token, and reports what each revoked', async () => {
    const id = `vault-${h.fx.id}`;
    const later = iso(Date.now() + 600_000);
    await h.publish([
      identityEvent('identity.created', id, { kind: 'service-account', name: 'vault-reader', namespace: 'data', owner: 'team-data' }, { id: `${id}/1`, time: T }),
      identityEvent('session.started', id, { sessionId: 's-a', tokenId: 'tok-a', system: 'idp' }, { id: `${id}/2`, time: T }),
      identityEvent('session.started', id, { sessionId: 's-b', system: 'idp' }, { id: `${id}/3`, time: T }),
      identityEvent('secret.lease-created', id, { leaseId: 'l-1', secretPath: 'secret/db-root', expiresAt: later }, { id: `${id}/4`, time: T }),
    ]);
    await waitFor('the sessions in scope', async () => ((await h.api('GET', `/v1/identities/${id}/scope`, soc)).json as { sessions?: unknown[] }).sessions?.length === 2);

    const session = await h.cli(['--json', 'revoke-session', id, 's-b', '--reason', 'stolen laptop', '--wait', '1', '--timeout', '60s'], responder);
    expect(session.code).toBe(0);
    expect(JSON.parse(session.stdout)).toMatchObject({ status: { kind: 'revoke-session', issue: { complete: true, identitiesChanged: 1, changes: 1, revocations: 1 } } });

    const secret = await h.cli(['--json', 'revoke-secret', 'secret/db-root', '--reason', 'leaked in a paste', '--wait', '1', '--timeout', '60s'], responder);
    expect(secret.code).toBe(0);
    const leaseStatus = JSON.parse(secret.stdout) as { accepted: { orderId: string; target: unknown }; status: { issue: { identitiesChanged: number; changes: number; revocations: number } } };
    expect(leaseStatus.accepted.target).toEqual({ all: true });
    expect(leaseStatus.status.issue).toMatchObject({ identitiesChanged: 1, changes: 0, revocations: 1 });
    expect((await h.cli(['lift', leaseStatus.accepted.orderId], responder)).code).toBe(1);

    const token = await h.cli(['--json', 'revoke-token', id, 'tok-a', '--reason', 'replayed', '--wait', '1', '--timeout', '60s'], responder);
    expect(token.code).toBe(0);
    const history = (await h.api('GET', `/v1/identities/${id}/history?kinds=revocation`, soc)).json as { items: { revocation: { type: string; id: string } }[] };
    expect(history.items.map((i) => `${i.revocation.type}:${i.revocation.id}`).sort()).toEqual(['lease:l-1', 'session:s-a', 'session:s-b', 'token:tok-a']);
    expect(((await h.api('GET', `/v1/identities/${id}/scope`, soc)).json as { sessions: unknown[]; leases: unknown[] })).toMatchObject({ sessions: [], leases: [] });
  });
});

describe('explain: seed-like situations', () => {
  it('an order, a just-in-time grant, something not provisioned, and an escalation before and after its approval', async () => {
    const w = `wl-${h.fx.id}`;
    const sa = `sa-${h.fx.id}`;
    const bot = `bot-${h.fx.id}`;
    const jitUntil = T + 5 * 60_000;
    await h.publish([
      identityEvent('identity.created', w, { kind: 'workload', name: 'ledger', namespace: 'payments', owner: 'team-pay' }, { id: `${w}/1`, time: T }),
      identityEvent('entitlement.granted', w, { grantId: 'g-w', role: 'db-writer', permissions: [{ action: 'db:write', resource: 'db/ledger', access: 'write' }, { action: 'db:read', resource: 'db/ledger', access: 'read' }] }, { id: `${w}/2`, time: T }),
      identityEvent('identity.created', sa, { kind: 'service-account', name: 'exporter', namespace: 'data', owner: 'team-data' }, { id: `${sa}/1`, time: T }),
      identityEvent('session.started', sa, { sessionId: 's-exp', task: 'export' }, { id: `${sa}/2`, time: T }),
      identityEvent('jit.granted', sa, { grantId: 'jit-vault', sessionId: 's-exp', expiresAt: iso(jitUntil), permissions: [{ action: 'vault:read', resource: 'secret/export', access: 'read' }] }, { id: `${sa}/3`, time: T }),
      identityEvent('identity.created', bot, { kind: 'agent', name: 'helpdesk-bot', namespace: 'support', owner: 'team-support' }, { id: `${bot}/1`, time: T }),
      identityEvent('entitlement.granted', bot, { grantId: 'g-bot', role: 'helpdesk', permissions: [{ action: 'tickets:read', resource: 'tickets/*', access: 'read' }, { action: 'secrets:read', resource: 'secret/ticketing', access: 'read' }] }, { id: `${bot}/2`, time: T }),
    ]);
    await h.scopeWhere(bot, (s) => s.permissions.length === 1);
    await h.scopeWhere(sa, (s) => s.permissions.length === 1);

    const order = await h.api('POST', '/v1/orders', responder, { kind: 'read-only', target: { selector: { namespace: 'payments', kind: 'workload' } }, reason: 'INC-7 ledger drift', ttlSeconds: 3600 });
    expect(order.status).toBe(202);
    const orderId = (order.json as { orderId: string }).orderId;
    await h.scopeWhere(w, (s) => s.permissions.length === 1);
    const write = await h.api('GET', `/v1/identities/${w}/explain?action=db:write&resource=db/ledger`, soc);
    expect(write.status).toBe(200);
    expect(write.json).toMatchObject({ allowed: false, orders: [{ orderId, kind: 'read-only', actor: 'alice', reason: 'INC-7 ledger drift' }], provisioned: [{ grantId: 'g-w', role: 'db-writer' }] });
    const read = await h.api('GET', `/v1/identities/${w}/explain?action=db:read&resource=db/ledger`, soc);
    expect(read.json).toMatchObject({ allowed: true, orders: [], policies: { determining: ['base'], policySetVersion: 1 }, validUntil: null });

    // The just-in-time grant is bound to its task's session: allowed there, not outside it.
    const outside = await h.api('GET', `/v1/identities/${sa}/explain?action=vault:read&resource=secret/export`, soc);
    expect(outside.json).toMatchObject({ allowed: false });
    const jit = await h.api('GET', `/v1/identities/${sa}/explain?action=vault:read&resource=secret/export&session=s-exp`, soc);
    expect(jit.json).toMatchObject({ allowed: true, provisioned: [{ grantId: 'jit-vault', jit: true, expiresAt: iso(jitUntil) }], validUntil: iso(jitUntil), context: { session: { active: true, tasks: ['export'] } } });

    const none = await h.api('GET', `/v1/identities/${sa}/explain?action=console:admin&resource=console/prod`, soc);
    expect(none.json).toMatchObject({ allowed: false, provisioned: [], summary: expect.stringMatching(/not provisioned/) as unknown });

    const before = await h.api('GET', `/v1/identities/${bot}/explain?action=secrets:read&resource=secret/ticketing`, soc);
    expect(before.json).toMatchObject({ allowed: false, policies: { determining: ['escalation'] }, context: { approvals: [] } });
    expect((await h.api('POST', `/v1/identities/${bot}/approvals`, responder, { escalation: 'secret-retrieval', ttlSeconds: 600 })).status).toBe(403);
    const approval = await h.cli(['--json', 'approve', bot, '--escalation', 'secret-retrieval', '--ttl', '10m'], approver);
    expect(approval.code).toBe(0);
    const { expiresAt, approvedBy } = JSON.parse(approval.stdout) as { expiresAt: string; approvedBy: string };
    expect(approvedBy).toBe('carol');
    await h.scopeWhere(bot, (s) => s.permissions.length === 2);
    const after = await h.api('GET', `/v1/identities/${bot}/explain?action=secrets:read&resource=secret/ticketing`, soc);
    expect(after.json).toMatchObject({ allowed: true, policies: { determining: ['base'] }, context: { approvals: ['secret-retrieval'] }, validUntil: expiresAt });

    expect((await h.api('GET', `/v1/identities/nobody-${h.fx.id}/explain?action=a:b&resource=r`, soc)).status).toBe(404);
  });
});

describe('operations', () => {
  it('lists enforcement points with their last applied version and lag, and exports metrics', async () => {
    const enforcers = await waitFor('the enforcer in enforcer_status with lag', async () => {
      const r = await h.api('GET', '/v1/enforcers', soc);
      const list = (r.json as { enforcers: { enforcerId: string; lag: unknown; lastApplied: unknown }[] }).enforcers;
      const mine = list.find((e) => e.enforcerId === `gw-${h.fx.id}`);
      return mine?.lag && mine.lastApplied ? r.json : undefined;
    });
    const listed = enforcers as { known: number; enforcers: { enforcerId: string }[] };
    // The harness enforcer only: the CLI's `watch` of the first test is a probe, which neither
    // acknowledges nor reports, so it never counts as an enforcement point.
    expect(listed.known).toBe(1);
    expect(listed.enforcers.map((e) => e.enforcerId)).toEqual([`gw-${h.fx.id}`]);
    expect(listed.enforcers.find((e) => e.enforcerId === `gw-${h.fx.id}`)).toMatchObject({ live: true, stalenessMs: expect.any(Number) as unknown, lastApplied: { identityId: expect.any(String) as unknown }, lag: { p50Ms: expect.any(Number) as unknown, p99Ms: expect.any(Number) as unknown, maxMs: expect.any(Number) as unknown } });
    const table = await h.cli(['enforcers'], soc);
    expect(table.stdout).toMatch(new RegExp(`gw-${h.fx.id}\\s+yes`));

    const metrics = await fetch(`${h.cp.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/livescope_control_plane_orders_total\{kind="quarantine"\} 1/);
    expect(metrics).toMatch(/livescope_control_plane_http_requests_total\{route="\/v1\/orders",method="POST",status="202"\}/);
    expect(metrics).toMatch(new RegExp(`livescope_control_plane_enforcer_apply_lag_seconds_bucket\\{le="[^"]+",enforcer="gw-${h.fx.id}",kind="scope.change"\\}`));
    expect(metrics).toMatch(/livescope_control_plane_enforcers_known 1/);

    const ready = await h.api('GET', '/readyz', undefined);
    expect(ready).toEqual({ status: 200, json: { ready: true, checks: { kafka: 'ok', registry: 'ok', postgres: 'ok', consumers: 'ok' } } });
    expect((await h.api('GET', '/healthz', undefined)).json).toEqual({ status: 'ok' });
  });

  it('serves a valid OpenAPI 3.1 document whose paths and methods are the registered routes', async () => {
    const doc = (await h.api('GET', '/openapi.json', undefined)).json as { paths: Record<string, Record<string, unknown>> };
    const result = await new Validator().validate(doc);
    expect(result.valid).toBe(true);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(h.cp.registeredRoutes.map((r) => `${r.method} ${openApiPath(r.url)}`).sort()).toEqual(documented);
  });

  it('streams alerts with Server-Sent Events and resumes after Last-Event-ID', async () => {
    const id = `human-${h.fx.id}`;
    await h.publish([
      identityEvent('identity.created', id, { kind: 'service-account', name: 'reporter', namespace: 'bi', owner: 'team-bi' }, { id: `${id}/1`, time: T }),
      identityEvent('telemetry.human-use-detected', id, { evidence: 'interactive shell from a laptop' }, { id: `${id}/2`, time: Date.now() }),
    ]);
    const first = await waitFor('the first alert', async () => {
      const r = await h.api('GET', `/v1/alerts?identity=${id}`, soc);
      return (r.json as { alerts: { id: string; type: string }[] }).alerts[0];
    });
    expect(first.type).toBe('human-use');
    expect((await h.api('GET', '/v1/alerts', approver)).status).toBe(403);

    const ctl = new AbortController();
    const res = await fetch(`${h.cp.url}/v1/alerts/stream?identity=${id}`, { headers: { authorization: `Bearer ${soc}`, 'last-event-id': first.id }, signal: ctl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await h.publish([identityEvent('telemetry.human-use-detected', id, { evidence: 'second shell' }, { id: `${id}/3`, time: Date.now() })]);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await waitFor('the second alert on the stream', async () => {
      const chunk: { value?: Uint8Array } = await reader.read();
      text += decoder.decode(chunk.value, { stream: true });
      return /event: drift\.alert/.test(text);
    });
    ctl.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    expect(ids).not.toContain(first.id);
    expect(Number(ids[0])).toBeGreaterThan(Number(first.id));
    expect(text).toMatch(/second shell/);
  });
});
