import { describe, expect, it } from 'vitest';
import { compilePolicySet, livescopeSchemaText, readsContextPath } from '@livescope/policy';
import { examplePolicies } from './livescopeFixture.js';

const set = compilePolicySet({ policies: examplePolicies(), schema: livescopeSchemaText });
const inputs = (id: string) => {
  const i = set.analysis.perPolicy.get(id);
  if (!i) throw new Error(`no policy ${id}`);
  return i;
};

describe('input analysis of the seed-scenario policies', () => {
  it('base reads nothing but the request itself', () => {
    expect(inputs('base')).toMatchObject({ context: [], readsNow: false, otherEntities: false, opaque: false });
    expect(inputs('base').principal).toEqual({ attrs: [], tags: [], hierarchy: false, identity: false });
  });

  it('release-window reads the release windows and both namespaces', () => {
    const i = inputs('release-window');
    expect(i.context).toEqual(['releaseWindows']);
    expect(i.principal.attrs).toEqual(['namespace']);
    expect(i.resource.attrs).toEqual(['namespace']);
    expect(i.action).toMatchObject({ identity: true, hierarchy: false });
    expect(i.readsNow).toBe(false);
  });

  it('escalation reads human approvals only', () => {
    expect(inputs('escalation').context).toEqual(['humanApprovals']);
  });

  it('jit-vault reads the grant and the session', () => {
    const i = inputs('jit-vault');
    expect(i.context).toEqual(['grant.jit', 'session.active']);
    expect(readsContextPath(i, 'session')).toBe(true);
    expect(readsContextPath(i, 'session.mfa')).toBe(false);
    expect(readsContextPath(i, 'approvals')).toBe(false);
  });

  it('tool-chain reads kind, a tag and the role hierarchy', () => {
    expect(inputs('tool-chain#0').principal).toEqual({ attrs: ['kind'], tags: ['orchestrator'], hierarchy: false, identity: false });
    expect(inputs('tool-chain#0').action.identity).toBe(true);
    expect(inputs('tool-chain#1').principal).toEqual({ attrs: ['kind'], tags: [], hierarchy: true, identity: true });
    expect(inputs('tool-chain#1').action).toMatchObject({ identity: true, hierarchy: true });
  });

  it('risk reads both risk scores and the action groups', () => {
    const i = inputs('risk');
    expect(i.context).toEqual(['riskScore']);
    expect(i.principal.attrs).toEqual(['riskScore']);
    expect(i.action.hierarchy).toBe(true);
  });

  it('business-hours reads the time', () => {
    expect(inputs('business-hours')).toMatchObject({ context: ['now'], readsNow: true });
  });

  it('the union covers every policy', () => {
    const u = set.analysis.union;
    expect(u.context).toEqual(['grant.jit', 'humanApprovals', 'incidentNamespaces', 'now', 'releaseWindows', 'riskScore', 'session.active']);
    expect(u.readsNow).toBe(true);
    expect(u.principal.attrs).toEqual(['kind', 'namespace', 'riskScore']);
    expect(u.principal.tags).toEqual(['orchestrator']);
    expect(u.opaque).toBe(false);
  });

  it('treats an escaping entity or context value as reading everything of it', () => {
    const s = compilePolicySet({
      policies: `permit(principal, action, resource) when { [principal].contains(resource.owner) && context == {} && principal.getTag(resource.k) == "x" && resource.owner.team == "t" };`,
    });
    const i = s.analysis.perPolicy.get('policy0');
    expect(i?.principal.attrs).toEqual(['*']);
    expect(i?.principal.tags).toEqual(['*']);
    expect(i?.context).toEqual(['']);
    expect(i?.readsNow).toBe(true);
    expect(i?.resource.attrs).toEqual(['k', 'owner', 'owner.team']);
  });

  it('reports scope constraints for indexing', () => {
    const s = compilePolicySet({ policies: `forbid(principal in Livescope::Role::"ops", action in [Livescope::Action::"db:write", Livescope::Action::"db:admin"], resource is Livescope::Resource);` });
    const scope = s.policies[0]?.scope;
    expect(scope?.principal).toMatchObject({ op: 'in', entity: { type: 'Livescope::Role', id: 'ops' } });
    expect(scope?.action).toMatchObject({ op: 'in', entities: [{ type: 'Livescope::Action', id: 'db:write' }, { type: 'Livescope::Action', id: 'db:admin' }] });
    expect(scope?.resource).toEqual({ op: 'is', entityType: 'Livescope::Resource' });
  });
});
