import { broadcastEvent, identityEvent, type LivescopeEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { emptyOutput } from './EngineOutput.js';
import { encodeIdentity } from './stateCodec.js';
import type { ScopePolicy } from './ScopePolicy.js';
import { spec, tick } from './testing/engineSpec.js';
import { ev, MIN, nextId, perm, run, T0, TRUSTED } from './testing/fixtures.js';

/**
 * Poison is local (issue 13): whatever one event does inside the engine — an unknown type, an
 * exception in a policy, a limit — it is rejected alone and the partition is exactly as before it.
 */

/** A policy set with a defect: deciding on `resource` throws. */
const throwsOn = (resource: string, also: (r: string) => boolean = () => false): ScopePolicy => ({
  version: 1,
  fingerprints: new Map([['defect', 'v1']]),
  decide: (_p, r) => {
    if (r.resource === resource || also(r.resource)) throw new TypeError(`Cannot read properties of undefined (reading 'reject')`);
    return { allow: true, determining: ['base'], errors: [] };
  },
  horizon: () => null,
  reads: () => true,
  scopeHint: () => ({}),
});

const snapshot = (r: ReturnType<typeof run>): string => [...r.engine.allIdentities()].map(encodeIdentity).sort().join('\n') + JSON.stringify([...r.engine.globals.orders]);

describe('poison is local', () => {
  it('an event type the engine does not know (a prototype name) is refused, not thrown', () => {
    for (const type of ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty']) {
      const r = run();
      r.send(ev.created('agent-1', T0));
      const before = snapshot(r);
      const bogus = { specversion: '1.0', id: nextId(), source: 'x', time: new Date(T0 + 1).toISOString(), type, subject: 'agent-1', data: {} } as unknown as LivescopeEvent;
      expect(r.send(bogus)).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/unsupported|unprocessable/) });
      expect(snapshot(r)).toBe(before);
      expect(r.out.changes).toHaveLength(0);
    }
  });

  it('an exception inside the engine for one event is poison for that event: the state is exactly as before, later events apply', () => {
    const r = run(throwsOn('db/bad'));
    r.send(ev.created('sa-1', T0));
    r.send(ev.granted('sa-1', 'g1', 'reader', [perm('db:read', 'db/ok')], T0 + 1));
    const before = snapshot(r);
    const bad = ev.granted('sa-1', 'g2', 'writer', [perm('db:write', 'db/bad', 'write')], T0 + 2);
    expect(r.send(bad)).toMatchObject({ status: 'rejected', reason: 'unprocessable', message: expect.stringContaining('TypeError') });
    expect(snapshot(r)).toBe(before);
    expect(r.out.changes).toHaveLength(0);
    expect(r.engine.drainDirty().identities.map((s) => s.version)).toEqual([1]);
    expect(r.send(ev.granted('sa-1', 'g3', 'writer', [perm('db:write', 'db/ok', 'write')], T0 + 3))).toMatchObject({ status: 'applied' });
    expect(r.scopeOf('sa-1')).toEqual(['db:read db/ok', 'db:write db/ok']);
  });

  it('a failure part-way through an org-wide event rolls back every identity it had changed', () => {
    let armed = false;
    const r = run(throwsOn('never', (res) => armed && res === 'db/3'));
    for (let i = 1; i <= 5; i++) {
      r.send(ev.created(`sa-${i}`, T0));
      r.send(ev.granted(`sa-${i}`, `g${i}`, 'writer', [perm('db:write', `db/${i}`, 'write'), perm('db:read', `db/${i}`)], T0 + 1));
    }
    r.engine.drainDirty();
    const before = snapshot(r);
    armed = true;
    const order = ev.order({ orderId: 'o-1', kind: 'read-only', target: { all: true }, reason: 'incident', actor: 'oncall' }, T0 + 2);
    expect(r.send(order)).toMatchObject({ status: 'rejected', reason: 'unprocessable' });
    expect(snapshot(r)).toBe(before);
    expect(r.engine.globals.orders.size).toBe(0);
    expect(r.engine.drainDirty()).toMatchObject({ identities: [], globals: undefined });
    armed = false;
    expect(r.send(order)).toMatchObject({ status: 'applied', identities: 5 });
  });

  it('a timer that fails does not stop the others and leaves its identity as it was', () => {
    const r = run(throwsOn('never', (res) => res === 'db/2' && armed));
    let armed = false;
    for (let i = 1; i <= 3; i++) {
      r.send(ev.created(`sa-${i}`, T0));
      r.send(ev.granted(`sa-${i}`, `g${i}`, 'reader', [perm('db:read', `db/${i}`)], T0 + 1));
      r.send(ev.jit(`sa-${i}`, `j${i}`, [perm('db:write', `jit/${i}`, 'write')], T0 + 5 * MIN, T0 + 1));
    }
    armed = true;
    const out = emptyOutput();
    expect(r.engine.tick(T0 + 6 * MIN, out)).toBe(2);
    expect(r.engine.drainTimerFailures()).toEqual([expect.objectContaining({ identityId: 'sa-2', at: T0 + 5 * MIN, message: expect.stringContaining('TypeError') })]);
    expect(r.scopeOf('sa-1')).toEqual(['db:read db/1']);
    expect(r.scopeOf('sa-2')).toEqual(['db:read db/2', 'db:write jit/2']);
    expect(r.scopeOf('sa-3')).toEqual(['db:read db/3']);
    expect(out.changes.map((c) => c.identityId)).toEqual(['sa-1', 'sa-3']);
    // Its timer is not retried in a loop: the next tick fires nothing more.
    expect(r.engine.tick(T0 + 7 * MIN, emptyOutput())).toBe(0);
  });
});

describe('per-identity limits keep every command below the broker limit', () => {
  it('the grant past the limit is refused (limit-exceeded) and the state keeps the others', () => {
    const r = run(undefined, { config: { limits: { grants: 3 } } });
    r.send(ev.created('sa-1', T0));
    for (let i = 1; i <= 3; i++) expect(r.send(ev.granted('sa-1', `g${i}`, `r${i}`, [perm('db:read', `db/${i}`)], T0 + i))).toMatchObject({ status: 'applied' });
    expect(r.send(ev.granted('sa-1', 'g4', 'r4', [perm('db:read', 'db/4')], T0 + 4))).toMatchObject({ status: 'rejected', reason: 'limit-exceeded', message: expect.stringContaining('4 role grants exceed the limit of 3') });
    expect(r.scopeOf('sa-1')).toHaveLength(3);
    // Narrowing an identity already at its limit still works.
    expect(r.send(identityEvent('entitlement.revoked', 'sa-1', { grantId: 'g1' }, { id: nextId(), time: T0 + 5 }))).toMatchObject({ status: 'applied' });
  });

  it('a scope whose command would be larger than the limit is refused at default settings', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    const long = 'r'.repeat(500);
    let refused = 0;
    let applied = 0;
    let largest = 0;
    // Grants of 200 permissions with 500-character resources (with quotes and non-ASCII: escapes and
    // multi-byte characters count): the change grows with every grant until the limit refuses one.
    for (let g = 0; g < 8 && refused === 0; g++) {
      const perms = Array.from({ length: 200 }, (_, i) => perm('db:read', `${long}"é/${g}/${i}`));
      const res = r.send(ev.granted('sa-1', `g${g}`, `bulk${g}`, perms, T0 + 1 + g));
      if (res.status === 'rejected') {
        expect(res).toMatchObject({ reason: 'limit-exceeded', message: expect.stringContaining('bytes') });
        refused++;
      } else {
        applied++;
        for (const c of r.out.changes) largest = Math.max(largest, Buffer.byteLength(JSON.stringify(c)));
      }
    }
    expect(refused).toBe(1);
    expect(applied).toBeGreaterThanOrEqual(2);
    // Every change that was produced fits the broker's default 1 MiB with room to spare.
    expect(largest).toBeGreaterThan(500 * 1024);
    expect(largest).toBeLessThan(900 * 1024);
  });
});

describe('org-wide events as given / when / then', () => {
  const created = ev.created('sa-1', T0, { namespace: 'payments' });
  const writer = ev.granted('sa-1', 'g1', 'writer', [perm('db:write', 'db/orders', 'write'), perm('db:read', 'db/orders')], T0 + 1);
  const readOnly = ev.order({ orderId: 'o-1', kind: 'read-only', target: { selector: { namespace: 'payments' } }, expiresAt: new Date(T0 + 120 * MIN).toISOString(), reason: 'incident', actor: 'oncall' }, T0 + 2);

  it('a read-only order narrows its targets, and ends by itself at its expiry', () => {
    spec()
      .given(created, writer)
      .when(readOnly)
      .then((o) => {
        expect(o.scope('sa-1')).toEqual(['db:read db/orders']);
        expect(o.out.changes[0]).toMatchObject({ direction: 'narrowing', cause: { orderIds: ['o-1'], actor: 'oncall' } });
      });
    spec()
      .given(created, writer, readOnly)
      .when(tick(T0 + 120 * MIN))
      .then((o) => expect(o.scope('sa-1')).toEqual(['db:read db/orders', 'db:write db/orders']));
  });

  it('a lift restores, and a replayed issue after the lift changes nothing', () => {
    spec()
      .given(created, writer, readOnly)
      .when(ev.lift('o-1', T0 + 3))
      .then((o) => expect(o.scope('sa-1')).toEqual(['db:read db/orders', 'db:write db/orders']));
    const reissue = { ...readOnly, id: nextId() } as typeof readOnly;
    spec()
      .given(created, writer, readOnly, ev.lift('o-1', T0 + 3))
      .when({ event: reissue, producer: TRUSTED, at: T0 + 4 })
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.scope('sa-1')).toHaveLength(2);
      });
  });

  it('an incident toggle older than the last one applied does not undo it', () => {
    const on = broadcastEvent('org.incident-mode', { incidentId: 'inc-1', namespace: 'payments', active: true }, { id: nextId(), time: T0 + 10 });
    const staleOff = broadcastEvent('org.incident-mode', { incidentId: 'inc-1', namespace: 'payments', active: false }, { id: nextId(), time: T0 + 5 });
    spec()
      .given(created, on)
      .when({ event: staleOff, at: T0 + 20 })
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.engine.globals.incidents.has('inc-1')).toBe(true);
      });
  });

  it('a policy set that does not compile is refused and the previous set stays in force', () => {
    const bad = broadcastEvent('policies.published', { version: 2, policies: [{ id: 'p', text: 'permit(' }], publishedBy: 'alice' }, { id: nextId(), time: T0 + 1 });
    spec(undefined, {
      compilePolicies: () => {
        throw new Error('policy p: unexpected end of input at 1:8');
      },
    })
      .given(created)
      .when(bad)
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'rejected', reason: 'invalid-policy', message: expect.stringContaining('1:8') });
        expect(o.engine.policy.version).toBe(0);
      });
  });
});
