import { readdirSync, readFileSync } from 'node:fs';
import { broadcastEvent, identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { compileScopePolicy } from './cedarScopePolicy.js';
import { PolicyInput } from './ScopePolicy.js';
import { ev, MIN, nextId, perm, run, T0 } from './testing/fixtures.js';

const dir = new URL('../../../examples/policies/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.cedar'))
  .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(new URL(f, dir), 'utf8') }));

describe('the engine with the example Cedar policies', () => {
  const policy = compileScopePolicy(files, 1);

  it('knows what the policies read', () => {
    expect(policy.reads(PolicyInput.approvals)).toBe(true);
    expect(policy.reads(PolicyInput.releaseWindows)).toBe(true);
    expect(policy.reads(PolicyInput.riskScore)).toBe(true);
    expect(policy.reads(PolicyInput.anomalies)).toBe(false);
    expect(policy.reads(PolicyInput.humanUse)).toBe(false);
  });

  it('scenario 2: secret retrieval appears with the approval and leaves at its TTL, naming the policy', () => {
    const r = run(policy);
    r.send(ev.created('bot', T0, { kind: 'agent', namespace: 'support' }));
    r.send(ev.granted('bot', 'g', 'support', [perm('tickets:read', 'tickets/support', 'read', { namespace: 'support' }), perm('secrets:read', 'secret/kb', 'read', { namespace: 'support' })], T0 + 1));
    expect(r.scopeOf('bot')).toEqual(['tickets:read tickets/support']);
    r.send(ev.approval('bot', 'secret-retrieval', T0 + 15 * MIN, T0 + 2));
    expect(r.scopeOf('bot')).toContain('secrets:read secret/kb');
    const out = r.tick(T0 + 16 * MIN);
    expect(out.changes[0]!.removed[0]).toMatchObject({ action: 'secrets:read', cause: { timer: true, policyIds: ['escalation'] } });
  });

  it('scenario 1: deploy only inside the release window, only to its own namespace', () => {
    const r = run(policy);
    r.send(ev.created('ci', T0, { kind: 'ci-job', namespace: 'checkout' }));
    r.send(ev.granted('ci', 'g', 'deployer', [perm('k8s:deploy', 'k8s/checkout', 'write', { namespace: 'checkout' }), perm('k8s:deploy', 'k8s/payments', 'write', { namespace: 'payments' })], T0 + 1));
    expect(r.scopeOf('ci')).toEqual([]);
    r.send(broadcastEvent('org.release-window', { windowId: 'w', namespace: 'checkout', startsAt: new Date(T0 + 10 * MIN).toISOString(), endsAt: new Date(T0 + 40 * MIN).toISOString(), signedBy: 'rm', signature: 'x'.repeat(20) }, { id: nextId(), time: T0 + 2 }));
    expect(r.engine.nextWakeAt()).toBe(T0 + 10 * MIN);
    r.tick(T0 + 10 * MIN);
    expect(r.scopeOf('ci')).toEqual(['k8s:deploy k8s/checkout']);
    expect(r.engine.identity('ci')!.scope[0]!.validUntil).toBe(T0 + 40 * MIN);
    const out = r.tick(T0 + 41 * MIN);
    expect(out.changes[0]).toMatchObject({ direction: 'narrowing', cause: { timer: true } });
    expect(r.scopeOf('ci')).toEqual([]);
  });

  it('risk: a replayed token removes writes through the risk policy', () => {
    const r = run(policy);
    r.send(ev.created('w', T0, { namespace: 'pay' }));
    r.send(ev.granted('w', 'g', 'db', [perm('db:read', 'db/pay', 'read'), perm('db:write', 'db/pay', 'write')], T0 + 1));
    r.send(identityEvent('telemetry.token-replay-detected', 'w', { tokenId: 't' }, { id: nextId(), time: T0 + 2 }));
    expect(r.scopeOf('w')).toEqual(['db:read db/pay']);
    expect(r.out.changes[0]!.removed[0]).toMatchObject({ action: 'db:write', cause: { policyIds: ['risk'] } });
  });

  it('scenario 5: an orchestrated agent keeps only its tool chain', () => {
    const r = run(policy);
    r.send(ev.created('agent', T0, { kind: 'agent', namespace: 'support', labels: { orchestrator: 'router' } }));
    r.send(ev.granted('agent', 'g', 'tools', [perm('tool:invoke', 'tools/chain', 'write'), perm('db:read', 'db/support', 'read')], T0 + 1));
    expect(r.scopeOf('agent')).toEqual(['tool:invoke tools/chain']);
  });

  it('rejects a policy set that does not validate, naming file and line', () => {
    expect(() => compileScopePolicy([{ id: 'bad', text: 'permit (principal, action == Livescope::Action::"db:read", resource) when { context.nope };' }], 2)).toThrow(/bad/);
  });
});

describe('compileScopePolicy memoisation', () => {
  it('returns the same compiled set for the same files and version, a new one when either changes', () => {
    const files = [{ id: 'p', text: 'permit(principal, action, resource);' }];
    const a = compileScopePolicy(files, 1);
    expect(compileScopePolicy([{ ...files[0]! }], 1)).toBe(a);
    expect(compileScopePolicy(files, 2)).not.toBe(a);
    expect(compileScopePolicy([{ id: 'p', text: 'forbid(principal, action, resource);' }], 1)).not.toBe(a);
  });
});
