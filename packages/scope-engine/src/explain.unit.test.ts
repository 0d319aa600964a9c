import { describe, expect, it } from 'vitest';
import { explain } from './explain.js';
import { ev, MIN, perm, run, T0 } from './testing/fixtures.js';

describe('explain', () => {
  it('names the grant, the order and until when the answer holds', () => {
    const r = run();
    r.send(ev.created('w', T0, { namespace: 'pay' }));
    r.send(ev.granted('w', 'g1', 'db', [perm('db:write', 'db/pay', 'write')], T0 + 1));
    r.send(ev.jit('w', 'j1', [perm('vault:read', 'secret/x')], T0 + 5 * MIN, T0 + 2));
    const s = () => r.engine.identity('w')!;
    const jit = explain(s(), r.engine.globals, r.engine.policy, 'vault:read', 'secret/x', T0 + 3, r.engine.config);
    expect(jit).toMatchObject({ allowed: true, provisioned: [{ grantId: 'j1', jit: true }], validUntil: new Date(T0 + 5 * MIN).toISOString() });
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { identityId: 'w' }, reason: 'INC-1', actor: 'alice' }, T0 + 4));
    const write = explain(s(), r.engine.globals, r.engine.policy, 'db:write', 'db/pay', T0 + 5, r.engine.config);
    expect(write).toMatchObject({ allowed: false, orders: [{ orderId: 'o1', kind: 'read-only', actor: 'alice' }], provisioned: [{ grantId: 'g1', role: 'db' }] });
    expect(write.summary).toMatch(/denied by order o1/);
    expect(explain(s(), r.engine.globals, r.engine.policy, 'admin:x', 'y', T0 + 5, r.engine.config)).toMatchObject({ allowed: false, summary: expect.stringMatching(/not provisioned/) });
  });
});
