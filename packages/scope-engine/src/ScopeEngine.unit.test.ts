import { broadcastEvent, identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import type { ScopePolicy } from './ScopePolicy.js';
import { ev, MIN, nextId, perm, run, T0 } from './testing/fixtures.js';

const escalation: ScopePolicy = {
  version: 1,
  fingerprints: new Map([['escalation', 'v1']]),
  decide: (_p, r, c) =>
    r.action === 'secrets:read' && !c.approvals.includes('secret-retrieval') ? { allow: false, determining: ['escalation'], errors: [] } : { allow: true, determining: ['base'], errors: [] },
  horizon: () => null,
  reads: (i) => i === 'context.approvals',
  scopeHint: () => ({ actions: ['secrets:read'] }),
};

describe('scope engine: given / when / then', () => {
  it('widens on a grant and versions every change', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    expect(r.out.changes).toHaveLength(0);
    r.send(ev.granted('sa-1', 'g1', 'reader', [perm('db:read', 'db/orders')], T0 + 1));
    expect(r.out.changes).toHaveLength(1);
    expect(r.out.changes[0]).toMatchObject({ identityId: 'sa-1', version: 1, previousVersion: 0, direction: 'widening' });
    expect(r.out.changes[0]!.added[0]).toMatchObject({ action: 'db:read', resource: 'db/orders', validUntil: null });
    expect(r.out.snapshots[0]).toMatchObject({ kind: 'scope.snapshot', version: 1 });
  });

  it('ignores a duplicate event id', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    const g = ev.granted('sa-1', 'g1', 'reader', [perm('db:read', 'db/orders')], T0 + 1);
    r.send(g);
    expect(r.send(g)).toEqual({ status: 'duplicate' });
    expect(r.out.changes).toHaveLength(0);
  });

  it('rejects events of unknown identities and from the far future', () => {
    const r = run();
    expect(r.send(ev.session('ghost', 's1', T0))).toMatchObject({ status: 'rejected', reason: 'unknown-identity' });
    r.send(ev.created('sa-1', T0));
    expect(r.send(ev.session('sa-1', 's1', T0 + 60 * MIN), T0)).toMatchObject({ status: 'rejected', reason: 'timestamp-in-future' });
  });

  it('scenario 4: a task-bound just-in-time grant ends with the task, revoking session and leases', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(ev.session('sa-1', 's1', T0 + 1, { tokenId: 'tok-1' }));
    r.send(ev.jit('sa-1', 'jit-1', [perm('vault:read', 'secret/db')], T0 + 5 * MIN, T0 + 2, 's1'));
    expect(r.scopeOf('sa-1')).toEqual(['vault:read secret/db']);
    expect(r.engine.identity('sa-1')!.scope[0]!.validUntil).toBe(T0 + 5 * MIN);
    r.send(ev.lease('sa-1', 'lease-1', 'secret/db', T0 + 60 * MIN, T0 + 3, 's1'));
    r.send(ev.taskCompleted('sa-1', 's1', T0 + 4));
    expect(r.scopeOf('sa-1')).toEqual([]);
    expect(r.out.changes[0]).toMatchObject({ direction: 'narrowing', sessions: [] });
    expect(r.out.revocations.map((x) => `${x.target.type}:${x.target.id}`)).toEqual(['session:s1', 'token:tok-1', 'lease:lease-1']);
  });

  it('scenario 4: the five minutes pass with no event: the timer narrows and revokes', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(ev.session('sa-1', 's1', T0 + 1));
    r.send(ev.jit('sa-1', 'jit-1', [perm('vault:read', 'secret/db')], T0 + 5 * MIN, T0 + 2, 's1'));
    r.send(ev.lease('sa-1', 'lease-1', 'secret/db', T0 + 60 * MIN, T0 + 3, 's1'));
    expect(r.engine.nextWakeAt()).toBe(T0 + 5 * MIN);
    expect(r.tick(T0 + 5 * MIN - 1).changes).toHaveLength(0);
    const out = r.tick(T0 + 5 * MIN + 10);
    expect(out.changes[0]).toMatchObject({ direction: 'narrowing', cause: { timer: true }, at: new Date(T0 + 5 * MIN).toISOString() });
    expect(out.revocations.map((x) => x.target.id)).toEqual(['s1', 'lease-1']);
  });

  it('scenario 3: read-only order by selector narrows, lifting restores', () => {
    const r = run();
    for (const id of ['w-1', 'w-2', 'w-3']) {
      r.send(ev.created(id, T0, { namespace: id === 'w-3' ? 'other' : 'payments' }));
      r.send(ev.granted(id, `g-${id}`, 'db', [perm('db:read', 'db/pay'), perm('db:write', 'db/pay', 'write')], T0 + 1));
    }
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { selector: { namespace: 'payments' } }, reason: 'incident 42', actor: 'alice', expiresAt: new Date(T0 + 120 * MIN).toISOString() }, T0 + 2));
    expect(r.out.changes.map((c) => c.identityId).sort()).toEqual(['w-1', 'w-2']);
    expect(r.out.changes[0]!.removed[0]).toMatchObject({ action: 'db:write', cause: { orderIds: ['o1'] } });
    expect(r.scopeOf('w-1')).toEqual(['db:read db/pay']);
    expect(r.scopeOf('w-3')).toHaveLength(2);
    r.send(ev.lift('o1', T0 + 3));
    expect(r.scopeOf('w-1')).toHaveLength(2);
    expect(r.out.changes[0]).toMatchObject({ direction: 'widening' });
  });

  it('scenario 3: an order expires by itself', () => {
    const r = run();
    r.send(ev.created('w-1', T0, { namespace: 'payments' }));
    r.send(ev.granted('w-1', 'g', 'db', [perm('db:write', 'db/pay', 'write')], T0 + 1));
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { identityId: 'w-1' }, reason: 'r', actor: 'alice', expiresAt: new Date(T0 + 10 * MIN).toISOString() }, T0 + 2));
    expect(r.scopeOf('w-1')).toEqual([]);
    const out = r.tick(T0 + 11 * MIN);
    expect(out.changes[0]).toMatchObject({ direction: 'widening', cause: { timer: true } });
    expect(r.scopeOf('w-1')).toEqual(['db:write db/pay']);
  });

  it('quarantine empties the scope and revokes what the identity holds', () => {
    const r = run();
    r.send(ev.created('a-1', T0, { kind: 'agent' }));
    r.send(ev.granted('a-1', 'g', 'tools', [perm('tool:invoke', 'chain/a')], T0 + 1));
    r.send(ev.session('a-1', 's1', T0 + 2));
    r.send(ev.order({ orderId: 'q1', kind: 'quarantine', target: { identityId: 'a-1' }, reason: 'suspicious', actor: 'alice' }, T0 + 3));
    expect(r.scopeOf('a-1')).toEqual([]);
    expect(r.out.revocations.map((x) => x.target.id)).toEqual(['s1']);
  });

  it('scenario 2: secret retrieval only with an approval, for its TTL', () => {
    const r = run(escalation);
    r.send(ev.created('bot', T0, { kind: 'agent' }));
    r.send(ev.granted('bot', 'g', 'support', [perm('tickets:read', 'tickets'), perm('secrets:read', 'secret/kb')], T0 + 1));
    expect(r.scopeOf('bot')).toEqual(['tickets:read tickets']);
    r.send(ev.approval('bot', 'secret-retrieval', T0 + 15 * MIN, T0 + 2));
    expect(r.scopeOf('bot')).toEqual(['secrets:read secret/kb', 'tickets:read tickets']);
    expect(r.engine.identity('bot')!.scope[0]!.validUntil).toBe(T0 + 15 * MIN);
    const out = r.tick(T0 + 16 * MIN);
    expect(out.changes[0]!.removed[0]).toMatchObject({ action: 'secrets:read', cause: { timer: true, policyIds: ['escalation'] } });
  });

  it('an unread input changes nothing and costs no recompute', () => {
    const r = run(escalation);
    r.send(ev.created('bot', T0));
    r.send(ev.granted('bot', 'g', 'support', [perm('tickets:read', 'tickets')], T0 + 1));
    const before = r.engine.identity('bot');
    expect(r.send(identityEvent('telemetry.risk-scored', 'bot', { score: 0 }, { id: nextId(), time: T0 + 2 }))).toEqual({ status: 'unchanged' });
    expect(r.engine.identity('bot')).toBe(before);
  });

  it('a replayed token revokes the session and the token, raises risk and alerts', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(ev.session('sa-1', 's1', T0 + 1, { tokenId: 'tok-1' }));
    r.send(identityEvent('telemetry.token-replay-detected', 'sa-1', { tokenId: 'tok-1' }, { id: nextId(), time: T0 + 2 }));
    expect(r.out.revocations.map((x) => `${x.target.type}:${x.target.id}`)).toEqual(['session:s1', 'token:tok-1']);
    expect(r.out.alerts[0]).toMatchObject({ type: 'token-replay', severity: 'critical' });
    expect(r.engine.identity('sa-1')!.riskScore).toBe(90);
  });

  it('a leaked secret revokes every lease of it, across identities', () => {
    const r = run();
    for (const id of ['a', 'b', 'c']) {
      r.send(ev.created(id, T0));
      r.send(ev.lease(id, `l-${id}`, id === 'c' ? 'secret/other' : 'secret/db', T0 + 60 * MIN, T0 + 1));
    }
    r.send(broadcastEvent('secret.leaked', { secretPath: 'secret/db' }, { id: nextId(), time: T0 + 2 }));
    expect(r.out.revocations.map((x) => x.target.id).sort()).toEqual(['l-a', 'l-b']);
    expect(r.out.alerts.every((a) => a.type === 'secret-leaked')).toBe(true);
  });

  it('an offboarded identity loses all scope at once, and later events are rejected', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(ev.granted('sa-1', 'g', 'r', [perm('db:read', 'db/a'), perm('db:write', 'db/a', 'write')], T0 + 1));
    r.send(ev.session('sa-1', 's1', T0 + 2));
    r.send(identityEvent('identity.deleted', 'sa-1', { reason: 'offboarded' }, { id: nextId(), time: T0 + 3 }));
    expect(r.out.changes[0]).toMatchObject({ status: 'deleted', permissions: [], direction: 'narrowing' });
    expect(r.out.revocations.map((x) => x.target.id)).toEqual(['s1']);
    expect(r.send(ev.session('sa-1', 's2', T0 + 4))).toMatchObject({ status: 'rejected', reason: 'identity-deleted' });
  });

  it('out-of-scope attempts reported by an enforcer become drift alerts', () => {
    const r = run();
    r.send(ev.created('a-1', T0, { kind: 'agent' }));
    r.send(
      identityEvent(
        'enforcement.decisions',
        'a-1',
        { enforcerId: 'gw-1', windowStart: new Date(T0).toISOString(), windowEnd: new Date(T0 + 1000).toISOString(), decisions: [{ action: 'admin:console', resource: 'console', allowed: 0, denied: 3 }] },
        { id: nextId(), time: T0 + 1 },
      ),
    );
    expect(r.out.alerts[0]).toMatchObject({ type: 'out-of-scope-attempt', severity: 'high', identityId: 'a-1' });
  });

  it('secret access without an active session raises an alert', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(identityEvent('secret.accessed', 'sa-1', { secretPath: 'secret/db', operation: 'read' }, { id: nextId(), time: T0 + 1 }));
    expect(r.out.alerts[0]).toMatchObject({ type: 'secret-access-without-session' });
  });

  it('sudden widening raises an alert', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(ev.granted('sa-1', 'g0', 'base', [perm('db:read', 'db/a')], T0 + 1));
    r.send(ev.granted('sa-1', 'g1', 'cluster-admin', [perm('k8s:admin', 'cluster', 'admin')], T0 + 2));
    expect(r.out.alerts[0]).toMatchObject({ type: 'sudden-widening', severity: 'high' });
  });

  it('provisioned permissions unused over the window raise excess-privilege alerts once', () => {
    const r = run(undefined, { config: { excessPrivilegeWindowMs: 60 * MIN } });
    r.send(ev.created('sa-1', T0));
    r.send(ev.granted('sa-1', 'g', 'r', [perm('db:read', 'db/a'), perm('db:write', 'db/a', 'write')], T0));
    r.send(identityEvent('telemetry.activity', 'sa-1', { action: 'db:read', resource: 'db/a' }, { id: nextId(), time: T0 + 30 * MIN }));
    const out = r.tick(T0 + 61 * MIN);
    expect(out.alerts.map((a) => a.details.action)).toEqual(['db:write']);
    expect(r.tick(T0 + 62 * MIN).alerts).toHaveLength(0);
    expect(r.tick(T0 + 91 * MIN).alerts.map((a) => a.details.action)).toEqual(['db:read']);
  });

  it('regression: re-issuing an order id with a new target releases identities only the old target matched', () => {
    const r = run();
    for (const id of ['a', 'b']) {
      r.send(ev.created(id, T0, { namespace: 'pay' }));
      r.send(ev.granted(id, `g-${id}`, 'db', [perm('db:write', 'db/pay', 'write')], T0 + 1));
    }
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { selector: { namespace: 'pay' } }, reason: 'r', actor: 'x' }, T0 + 2));
    expect(r.scopeOf('b')).toEqual([]);
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { identityId: 'a' }, reason: 'r', actor: 'x' }, T0 + 3));
    expect(r.scopeOf('a')).toEqual([]);
    expect(r.scopeOf('b')).toEqual(['db:write db/pay']);
  });
});
