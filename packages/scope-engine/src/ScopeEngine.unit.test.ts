import { broadcastEvent, identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import type { ScopePolicy } from './ScopePolicy.js';
import { spec, tick } from './testing/engineSpec.js';
import { ev, MIN, nextId, perm, T0 } from './testing/fixtures.js';

/**
 * The engine's behaviour as specifications: given a history of events, when one more event (or the
 * worker's timer) arrives, then these outputs and this state. Each history is replayed into a fresh
 * engine, so a specification reads on its own.
 */
const escalation: ScopePolicy = {
  version: 1,
  fingerprints: new Map([['escalation', 'v1']]),
  decide: (_p, r, c) =>
    r.action === 'secrets:read' && !c.approvals.includes('secret-retrieval') ? { allow: false, determining: ['escalation'], errors: [] } : { allow: true, determining: ['base'], errors: [] },
  horizon: () => null,
  reads: (i) => i === 'context.approvals',
  scopeHint: () => ({ actions: ['secrets:read'] }),
};

const created = ev.created('sa-1', T0);
const reader = ev.granted('sa-1', 'g1', 'reader', [perm('db:read', 'db/orders')], T0 + 1);

describe('versioned changes', () => {
  it('a creation alone produces no change', () => {
    spec()
      .given()
      .when(created)
      .then((o) => expect(o.out.changes).toHaveLength(0));
  });

  it('widens on a grant and versions every change', () => {
    spec()
      .given(created)
      .when(reader)
      .then((o) => {
        expect(o.out.changes).toHaveLength(1);
        expect(o.out.changes[0]).toMatchObject({ identityId: 'sa-1', version: 1, previousVersion: 0, direction: 'widening' });
        expect(o.out.changes[0]!.added[0]).toMatchObject({ action: 'db:read', resource: 'db/orders', validUntil: null });
        expect(o.out.snapshots[0]).toMatchObject({ kind: 'scope.snapshot', version: 1 });
      });
  });

  it('ignores a duplicate event id', () => {
    spec()
      .given(created, reader)
      .when(reader)
      .then((o) => {
        expect(o.result).toEqual({ status: 'duplicate' });
        expect(o.out.changes).toHaveLength(0);
      });
  });

  it('rejects events of unknown identities', () => {
    spec()
      .given()
      .when(ev.session('ghost', 's1', T0))
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'unknown-identity' }));
  });

  it('rejects events from the far future (by broker time)', () => {
    spec()
      .given(created)
      .when({ event: ev.session('sa-1', 's1', T0 + 60 * MIN), at: T0 })
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'timestamp-in-future' }));
  });
});

describe('scenario 4: task-bound just-in-time grants', () => {
  const session = ev.session('sa-1', 's1', T0 + 1, { tokenId: 'tok-1' });
  const jit = ev.jit('sa-1', 'jit-1', [perm('vault:read', 'secret/db')], T0 + 5 * MIN, T0 + 2, 's1');
  const lease = ev.lease('sa-1', 'lease-1', 'secret/db', T0 + 60 * MIN, T0 + 3, 's1');

  it('the grant holds until its expiry', () => {
    spec()
      .given(created, session)
      .when(jit)
      .then((o) => {
        expect(o.scope('sa-1')).toEqual(['vault:read secret/db@s1']); // bound to the task's session
        expect(o.engine.identity('sa-1')!.scope[0]!.validUntil).toBe(T0 + 5 * MIN);
      });
  });

  it('the grant ends with the task, revoking session, token and leases', () => {
    spec()
      .given(created, session, jit, lease)
      .when(ev.taskCompleted('sa-1', 's1', T0 + 4))
      .then((o) => {
        expect(o.scope('sa-1')).toEqual([]);
        expect(o.out.changes[0]).toMatchObject({ direction: 'narrowing', sessions: [] });
        expect(o.out.revocations.map((x) => `${x.target.type}:${x.target.id}`)).toEqual(['session:s1', 'token:tok-1', 'lease:lease-1']);
      });
  });

  it('the engine wakes at the expiry, and not a millisecond early', () => {
    spec()
      .given(created, session, jit, lease)
      .when(tick(T0 + 5 * MIN - 1))
      .then((o) => {
        expect(o.engine.nextWakeAt()).toBe(T0 + 5 * MIN);
        expect(o.out.changes).toHaveLength(0);
      });
  });

  it('the five minutes pass with no event: the timer narrows and revokes', () => {
    spec()
      .given(created, ev.session('sa-1', 's1', T0 + 1), jit, lease, tick(T0 + 5 * MIN - 1))
      .when(tick(T0 + 5 * MIN + 10))
      .then((o) => {
        expect(o.out.changes[0]).toMatchObject({ direction: 'narrowing', cause: { timer: true }, at: new Date(T0 + 5 * MIN).toISOString() });
        expect(o.out.revocations.map((x) => x.target.id)).toEqual(['s1', 'lease-1']);
      });
  });
});

describe('scenario 3: incident orders', () => {
  const fleet = ['w-1', 'w-2', 'w-3'].flatMap((id) => [
    ev.created(id, T0, { namespace: id === 'w-3' ? 'other' : 'payments' }),
    ev.granted(id, `g-${id}`, 'db', [perm('db:read', 'db/pay'), perm('db:write', 'db/pay', 'write')], T0 + 1),
  ]);
  const readOnly = ev.order({ orderId: 'o1', kind: 'read-only', target: { selector: { namespace: 'payments' } }, reason: 'incident 42', actor: 'alice', expiresAt: new Date(T0 + 120 * MIN).toISOString() }, T0 + 2);

  it('a read-only order by selector narrows the identities it selects', () => {
    spec()
      .given(...fleet)
      .when(readOnly)
      .then((o) => {
        expect(o.out.changes.map((c) => c.identityId).sort()).toEqual(['w-1', 'w-2']);
        expect(o.out.changes[0]!.removed[0]).toMatchObject({ action: 'db:write', cause: { orderIds: ['o1'] } });
        expect(o.scope('w-1')).toEqual(['db:read db/pay']);
        expect(o.scope('w-3')).toHaveLength(2);
      });
  });

  it('lifting the order restores the scope', () => {
    spec()
      .given(...fleet, readOnly)
      .when(ev.lift('o1', T0 + 3))
      .then((o) => {
        expect(o.scope('w-1')).toHaveLength(2);
        expect(o.out.changes[0]).toMatchObject({ direction: 'widening' });
      });
  });

  it('a change names exactly what left and what came back, in scopes small enough to scan and large enough for a set', () => {
    // 3 and 24 permissions: emitChange scans scopes of up to 16 and indexes larger ones.
    for (const n of [3, 24]) {
      const perms = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? perm('db:read', `db/r${i}`) : perm('db:write', `db/w${i}`, 'write')));
      const writes = perms.filter((p) => p.access === 'write').map((p) => `${p.action} ${p.resource}`);
      const history = [ev.created('w-1', T0, { namespace: 'payments' }), ev.granted('w-1', 'g-1', 'db', perms, T0 + 1)];
      spec()
        .given(...history)
        .when(readOnly)
        .then((o) => {
          const c = o.out.changes[0]!;
          expect(c.direction).toBe('narrowing');
          expect(c.added).toEqual([]);
          expect(c.removed.map((r) => `${r.action} ${r.resource}`).sort()).toEqual([...writes].sort());
          expect(c.removed.every((r) => r.cause.orderIds?.length === 1 && r.cause.orderIds[0] === 'o1')).toBe(true);
          expect(c.cause.orderIds).toEqual(['o1']);
          expect(c.permissions).toHaveLength(n - writes.length);
        });
      spec()
        .given(...history, readOnly)
        .when(ev.lift('o1', T0 + 3))
        .then((o) => {
          const c = o.out.changes[0]!;
          expect(c.direction).toBe('widening');
          expect(c.removed).toEqual([]);
          expect(c.added.map((a) => `${a.action} ${a.resource}`).sort()).toEqual([...writes].sort());
          expect(c.cause.orderIds).toEqual(['o1']);
          expect(c.permissions).toHaveLength(n);
        });
    }
  });

  it('an order expires by itself', () => {
    const history = [
      ev.created('w-1', T0, { namespace: 'payments' }),
      ev.granted('w-1', 'g', 'db', [perm('db:write', 'db/pay', 'write')], T0 + 1),
      ev.order({ orderId: 'o1', kind: 'read-only', target: { identityId: 'w-1' }, reason: 'r', actor: 'alice', expiresAt: new Date(T0 + 10 * MIN).toISOString() }, T0 + 2),
    ];
    spec()
      .given(...history.slice(0, 2))
      .when(history[2]!)
      .then((o) => expect(o.scope('w-1')).toEqual([]));
    spec()
      .given(...history)
      .when(tick(T0 + 11 * MIN))
      .then((o) => {
        expect(o.out.changes[0]).toMatchObject({ direction: 'widening', cause: { timer: true } });
        expect(o.scope('w-1')).toEqual(['db:write db/pay']);
      });
  });

  it('quarantine empties the scope and revokes what the identity holds', () => {
    spec()
      .given(ev.created('a-1', T0, { kind: 'agent' }), ev.granted('a-1', 'g', 'tools', [perm('tool:invoke', 'chain/a')], T0 + 1), ev.session('a-1', 's1', T0 + 2))
      .when(ev.order({ orderId: 'q1', kind: 'quarantine', target: { identityId: 'a-1' }, reason: 'suspicious', actor: 'alice' }, T0 + 3))
      .then((o) => {
        expect(o.scope('a-1')).toEqual([]);
        expect(o.out.revocations.map((x) => x.target.id)).toEqual(['s1']);
      });
  });

  it('regression: re-issuing an order id with a new target releases identities only the old target matched', () => {
    const history = ['a', 'b'].flatMap((id) => [ev.created(id, T0, { namespace: 'pay' }), ev.granted(id, `g-${id}`, 'db', [perm('db:write', 'db/pay', 'write')], T0 + 1)]);
    const bySelector = ev.order({ orderId: 'o1', kind: 'read-only', target: { selector: { namespace: 'pay' } }, reason: 'r', actor: 'x' }, T0 + 2);
    spec()
      .given(...history)
      .when(bySelector)
      .then((o) => expect(o.scope('b')).toEqual([]));
    spec()
      .given(...history, bySelector)
      .when(ev.order({ orderId: 'o1', kind: 'read-only', target: { identityId: 'a' }, reason: 'r', actor: 'x' }, T0 + 3))
      .then((o) => {
        expect(o.scope('a')).toEqual([]);
        expect(o.scope('b')).toEqual(['db:write db/pay']);
      });
  });
});

describe('scenario 2: approvals', () => {
  const bot = [ev.created('bot', T0, { kind: 'agent' }), ev.granted('bot', 'g', 'support', [perm('tickets:read', 'tickets'), perm('secrets:read', 'secret/kb')], T0 + 1)];
  const approval = ev.approval('bot', 'secret-retrieval', T0 + 15 * MIN, T0 + 2);

  it('secret retrieval is not in scope without an approval', () => {
    spec(escalation)
      .given(bot[0]!)
      .when(bot[1]!)
      .then((o) => expect(o.scope('bot')).toEqual(['tickets:read tickets']));
  });

  it('an approval adds secret retrieval for its TTL', () => {
    spec(escalation)
      .given(...bot)
      .when(approval)
      .then((o) => {
        expect(o.scope('bot')).toEqual(['secrets:read secret/kb', 'tickets:read tickets']);
        expect(o.engine.identity('bot')!.scope[0]!.validUntil).toBe(T0 + 15 * MIN);
      });
  });

  it('the approval expires by the timer', () => {
    spec(escalation)
      .given(...bot, approval)
      .when(tick(T0 + 16 * MIN))
      .then((o) => expect(o.out.changes[0]!.removed[0]).toMatchObject({ action: 'secrets:read', cause: { timer: true, policyIds: ['escalation'] } }));
  });

  it('an unread input changes nothing and costs no recompute', () => {
    spec(escalation)
      .given(ev.created('bot', T0), ev.granted('bot', 'g', 'support', [perm('tickets:read', 'tickets')], T0 + 1))
      .when(identityEvent('telemetry.risk-scored', 'bot', { score: 0 }, { id: nextId(), time: T0 + 2 }))
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.before('bot')).toBeDefined();
        expect(o.engine.identity('bot')).toBe(o.before('bot'));
      });
  });
});

describe('credentials and secrets', () => {
  it('a replayed token revokes the session and the token, raises risk and alerts', () => {
    spec()
      .given(created, ev.session('sa-1', 's1', T0 + 1, { tokenId: 'tok-1' }))
      .when(identityEvent('telemetry.token-replay-detected', 'sa-1', { tokenId: 'tok-1' }, { id: nextId(), time: T0 + 2 }))
      .then((o) => {
        expect(o.out.revocations.map((x) => `${x.target.type}:${x.target.id}`)).toEqual(['session:s1', 'token:tok-1']);
        expect(o.out.alerts[0]).toMatchObject({ type: 'token-replay', severity: 'critical' });
        expect(o.engine.identity('sa-1')!.riskScore).toBe(90);
      });
  });

  it('a leaked secret revokes every lease of it, across identities', () => {
    spec()
      .given(...['a', 'b', 'c'].flatMap((id) => [ev.created(id, T0), ev.lease(id, `l-${id}`, id === 'c' ? 'secret/other' : 'secret/db', T0 + 60 * MIN, T0 + 1)]))
      .when(broadcastEvent('secret.leaked', { secretPath: 'secret/db' }, { id: nextId(), time: T0 + 2 }))
      .then((o) => {
        expect(o.out.revocations.map((x) => x.target.id).sort()).toEqual(['l-a', 'l-b']);
        expect(o.out.alerts.every((a) => a.type === 'secret-leaked')).toBe(true);
      });
  });
});

describe('offboarding', () => {
  const history = [
    created,
    ev.granted('sa-1', 'g', 'r', [perm('db:read', 'db/a'), perm('db:write', 'db/a', 'write')], T0 + 1),
    ev.session('sa-1', 's1', T0 + 2),
  ];
  const deleted = identityEvent('identity.deleted', 'sa-1', { reason: 'offboarded' }, { id: nextId(), time: T0 + 3 });

  it('an offboarded identity loses all scope at once', () => {
    spec()
      .given(...history)
      .when(deleted)
      .then((o) => {
        expect(o.out.changes[0]).toMatchObject({ status: 'deleted', permissions: [], direction: 'narrowing' });
        expect(o.out.revocations.map((x) => x.target.id)).toEqual(['s1']);
      });
  });

  it('later events of an offboarded identity are rejected', () => {
    spec()
      .given(...history, deleted)
      .when(ev.session('sa-1', 's2', T0 + 4))
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'identity-deleted' }));
  });
});

describe('drift alerts', () => {
  it('out-of-scope attempts reported by an enforcer become drift alerts', () => {
    spec()
      .given(ev.created('a-1', T0, { kind: 'agent' }))
      .when(
        identityEvent(
          'enforcement.decisions',
          'a-1',
          { enforcerId: 'gw-1', windowStart: new Date(T0).toISOString(), windowEnd: new Date(T0 + 1000).toISOString(), decisions: [{ action: 'admin:console', resource: 'console', allowed: 0, denied: 3 }] },
          { id: nextId(), time: T0 + 1 },
        ),
      )
      .then((o) => expect(o.out.alerts[0]).toMatchObject({ type: 'out-of-scope-attempt', severity: 'high', identityId: 'a-1' }));
  });

  it('secret access without an active session raises an alert', () => {
    spec()
      .given(created)
      .when(identityEvent('secret.accessed', 'sa-1', { secretPath: 'secret/db', operation: 'read' }, { id: nextId(), time: T0 + 1 }))
      .then((o) => expect(o.out.alerts[0]).toMatchObject({ type: 'secret-access-without-session' }));
  });

  it('sudden widening raises an alert', () => {
    spec()
      .given(created, ev.granted('sa-1', 'g0', 'base', [perm('db:read', 'db/a')], T0 + 1))
      .when(ev.granted('sa-1', 'g1', 'cluster-admin', [perm('k8s:admin', 'cluster', 'admin')], T0 + 2))
      .then((o) => expect(o.out.alerts[0]).toMatchObject({ type: 'sudden-widening', severity: 'high' }));
  });

  describe('provisioned permissions unused over the window raise excess-privilege alerts once', () => {
    const deps = { config: { excessPrivilegeWindowMs: 60 * MIN } };
    const history = [
      created,
      ev.granted('sa-1', 'g', 'r', [perm('db:read', 'db/a'), perm('db:write', 'db/a', 'write')], T0),
      identityEvent('telemetry.activity', 'sa-1', { action: 'db:read', resource: 'db/a' }, { id: nextId(), time: T0 + 30 * MIN }),
    ];
    it('the unused permission is reported when the window passes', () => {
      spec(undefined, deps)
        .given(...history)
        .when(tick(T0 + 61 * MIN))
        .then((o) => expect(o.out.alerts.map((a) => a.details.action)).toEqual(['db:write']));
    });
    it('not again a minute later', () => {
      spec(undefined, deps)
        .given(...history, tick(T0 + 61 * MIN))
        .when(tick(T0 + 62 * MIN))
        .then((o) => expect(o.out.alerts).toHaveLength(0));
    });
    it('the used one once its last use is a window old', () => {
      spec(undefined, deps)
        .given(...history, tick(T0 + 61 * MIN), tick(T0 + 62 * MIN))
        .when(tick(T0 + 91 * MIN))
        .then((o) => expect(o.out.alerts.map((a) => a.details.action)).toEqual(['db:read']));
    });
  });
});
