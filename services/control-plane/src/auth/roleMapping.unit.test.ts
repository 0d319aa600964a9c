import { describe, expect, it } from 'vitest';
import { claimedValues, parseRoleMapping, rolesOf } from './roleMapping.js';

describe('roles from a configurable claim', () => {
  const mapping = parseRoleMapping('{"sec-oncall":["responder","soc"],"sec-leads":"approver","platform-admins":"admin"}');

  it('maps groups to livescope roles, ignoring groups it does not know', () => {
    const source = { claim: 'groups', mapping };
    const values = claimedValues({ groups: ['sec-oncall', 'everyone', 'sec-leads'] }, source);
    expect(values).not.toBe('invalid');
    expect(rolesOf(values as string[], source).sort()).toEqual(['approver', 'responder', 'soc']);
  });

  it('does not read a role name as a role when a mapping is configured (only mapped values count)', () => {
    const source = { claim: 'groups', mapping };
    expect(rolesOf(['admin'], source)).toEqual([]);
  });

  it('reads nested claims by a dotted path, and a single string', () => {
    expect(claimedValues({ realm_access: { roles: ['soc'] } }, { claim: 'realm_access.roles' })).toEqual(['soc']);
    expect(claimedValues({ role: 'soc' }, { claim: 'role' })).toEqual(['soc']);
    expect(claimedValues({}, { claim: 'realm_access.roles' })).toEqual([]);
    expect(claimedValues({ realm_access: 'x' }, { claim: 'realm_access.roles' })).toEqual([]);
  });

  it('refuses a claim of the wrong type, and does not walk the prototype', () => {
    expect(claimedValues({ groups: [1, 2] }, { claim: 'groups' })).toBe('invalid');
    expect(claimedValues({ groups: { admin: true } }, { claim: 'groups' })).toBe('invalid');
    expect(claimedValues({}, { claim: '__proto__.constructor' })).toEqual([]);
  });

  it('names the bad entry of a mapping at start', () => {
    expect(() => parseRoleMapping('{"g":"root"}')).toThrow(/g: unknown role "root"/);
    expect(() => parseRoleMapping('{"g":[]}')).toThrow(/g: expected a role/);
    expect(() => parseRoleMapping('["admin"]')).toThrow(/JSON object/);
  });
});
