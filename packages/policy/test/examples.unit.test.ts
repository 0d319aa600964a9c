import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePolicySet, livescopeSchemaText, type AuthorizationRequest, type CompiledPolicySet, type EntityMap } from '@livescope/policy';
import { action, examplePolicies, identity, livescopeContext, livescopeEntities, resource, T0, wasmDecision, type ContextSpec, type IdentitySpec, type ResourceSpec } from './livescopeFixture.js';

const set: CompiledPolicySet = compilePolicySet({ policies: examplePolicies(), schema: livescopeSchemaText });

function decide(who: IdentitySpec, act: string, res: ResourceSpec, ctx: ContextSpec = {}): { decision: string; reason: string[] } {
  const entities: EntityMap = livescopeEntities(who, [res]);
  const request: AuthorizationRequest = { principal: identity(who.id), action: action(act), resource: resource(res.id), context: livescopeContext(ctx) };
  const got = set.isAuthorized(request, entities);
  // Every decision here is also checked against cedar-wasm.
  const oracle = wasmDecision(
    set.policies.map((p) => ({ id: p.id, text: p.text })),
    request,
    entities,
  );
  expect({ decision: got.decision, reason: [...got.reason].sort(), errors: got.errors }).toEqual({ decision: oracle.decision, reason: [...oracle.reason].sort(), errors: oracle.errors });
  return { decision: got.decision, reason: [...got.reason].sort() };
}

describe('livescope schema and seed-scenario policies', () => {
  it('keeps the schema constant identical to schema/livescope.cedarschema', () => {
    expect(livescopeSchemaText).toBe(readFileSync(new URL('../schema/livescope.cedarschema', import.meta.url), 'utf8'));
  });

  it('validates every example against the schema and compiles all of them', () => {
    expect(set.policies.map((p) => p.id)).toEqual([
      'base',
      'business-hours',
      'escalation',
      'incident-read-only',
      'jit-vault',
      'release-window',
      'risk',
      'tool-chain#0',
      'tool-chain#1',
    ]);
    expect(set.fallbackPolicyIds).toEqual([]);
    expect(set.policies.find((p) => p.id === 'release-window')?.annotations).toEqual({ id: 'release-window' });
  });

  it('1. release window: deploy only while a window is open for the namespace, only into its own namespace', () => {
    const ci: IdentitySpec = { id: 'ci-1', kind: 'ci-job', namespace: 'pay' };
    const payCluster: ResourceSpec = { id: 'k8s/pay', namespace: 'pay' };
    expect(decide(ci, 'k8s:deploy', payCluster).decision).toBe('deny');
    expect(decide(ci, 'k8s:deploy', payCluster, { releaseWindows: ['pay'] })).toEqual({ decision: 'allow', reason: ['base'] });
    expect(decide(ci, 'k8s:deploy', { id: 'k8s/web', namespace: 'web' }, { releaseWindows: ['pay', 'web'] })).toEqual({ decision: 'deny', reason: ['release-window'] });
    expect(decide(ci, 'k8s:deploy', { id: 'k8s/none' }, { releaseWindows: ['pay'] }).decision).toBe('deny');
    expect(decide(ci, 'k8s:read', payCluster).decision).toBe('allow');
  });

  it('2. escalation: secret retrieval denied until a human approves', () => {
    const bot: IdentitySpec = { id: 'bot', kind: 'agent' };
    const kb: ResourceSpec = { id: 'secret/kb', type: 'secret', system: 'vault' };
    expect(decide(bot, 'tickets:read', { id: 'tickets', system: 'jira' }).decision).toBe('allow');
    expect(decide(bot, 'secrets:read', kb)).toEqual({ decision: 'deny', reason: ['escalation'] });
    expect(decide(bot, 'secrets:read', kb, { approvals: ['secret-retrieval'] })).toEqual({ decision: 'allow', reason: ['base'] });
  });

  it('3. incident: writes and admin actions forbidden in incident namespaces, reads stay', () => {
    const w: IdentitySpec = { id: 'w', namespace: 'pay' };
    const db: ResourceSpec = { id: 'db/pay', type: 'db', system: 'pg', namespace: 'pay' };
    expect(decide(w, 'db:write', db, { nowMs: T0 }).decision).toBe('allow');
    expect(decide(w, 'db:write', db, { incidentNamespaces: ['pay'] })).toEqual({ decision: 'deny', reason: ['incident-read-only'] });
    expect(decide(w, 'db:admin', db, { incidentNamespaces: ['pay'] }).decision).toBe('deny');
    expect(decide(w, 'db:read', db, { incidentNamespaces: ['pay'] }).decision).toBe('allow');
  });

  it('4. jit vault: only with a just-in-time grant and an active session', () => {
    const sa: IdentitySpec = { id: 'sa', kind: 'service-account' };
    const vault: ResourceSpec = { id: 'secret/db', type: 'secret', system: 'vault' };
    expect(decide(sa, 'vault:read', vault, { jit: true, sessionActive: true }).decision).toBe('allow');
    expect(decide(sa, 'vault:read', vault, { jit: true, sessionActive: false })).toEqual({ decision: 'deny', reason: ['jit-vault'] });
    expect(decide(sa, 'vault:read', vault, { jit: false, sessionActive: true }).decision).toBe('deny');
  });

  it('5. tool chain: an orchestrated agent may only invoke tools; agents get no admin unless orchestrated-admin', () => {
    const agent: IdentitySpec = { id: 'a-1', kind: 'agent', labels: { orchestrator: 'flow-1' } };
    const tool: ResourceSpec = { id: 'chain/a', type: 'tool', system: 'tools' };
    expect(decide(agent, 'tool:invoke', tool).decision).toBe('allow');
    expect(decide(agent, 'tickets:write', { id: 'tickets', system: 'jira' })).toEqual({ decision: 'deny', reason: ['tool-chain#0'] });
    expect(decide(agent, 'console:admin', tool)).toEqual({ decision: 'deny', reason: ['tool-chain#0', 'tool-chain#1'] });
    const plain: IdentitySpec = { id: 'a-2', kind: 'agent' };
    expect(decide(plain, 'console:admin', tool).decision).toBe('deny');
    expect(decide({ ...plain, roles: ['orchestrated-admin'] }, 'console:admin', tool).decision).toBe('allow');
  });

  it('risk: high risk removes writes and admin, reads stay', () => {
    const w: IdentitySpec = { id: 'w', riskScore: 85 };
    const db: ResourceSpec = { id: 'db', type: 'db', system: 'pg' };
    expect(decide(w, 'db:write', db)).toEqual({ decision: 'deny', reason: ['risk'] });
    expect(decide({ ...w, riskScore: 10 }, 'db:write', db, { riskScore: 80 }).decision).toBe('deny');
    expect(decide({ ...w, riskScore: 10 }, 'db:write', db, { riskScore: 79 }).decision).toBe('allow');
    expect(decide(w, 'db:read', db).decision).toBe('allow');
  });

  it('business hours: database writes only between 09:00 and 17:00 UTC', () => {
    const w: IdentitySpec = { id: 'w' };
    const db: ResourceSpec = { id: 'db', type: 'db', system: 'pg' };
    expect(decide(w, 'db:write', db, { nowMs: Date.UTC(2026, 0, 15, 8, 59, 59, 999) }).decision).toBe('deny');
    expect(decide(w, 'db:write', db, { nowMs: Date.UTC(2026, 0, 15, 9) }).decision).toBe('allow');
    expect(decide(w, 'db:write', db, { nowMs: Date.UTC(2026, 0, 15, 16, 59, 59, 999) }).decision).toBe('allow');
    expect(decide(w, 'db:write', db, { nowMs: Date.UTC(2026, 0, 15, 17) }).decision).toBe('deny');
  });
});
