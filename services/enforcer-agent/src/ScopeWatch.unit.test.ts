import { EnforcerState, type ScopeSnapshot } from '@livescope/enforcer';
import { describe, expect, it } from 'vitest';
import { ScopeWatch } from './ScopeWatch.js';

describe('ScopeWatch', () => {
  it('sends the scope by name from the interned layout: every permission, bound ones with their session count', () => {
    const state = new EnforcerState(() => 0);
    const until = '2026-12-06T12:00:00.000Z';
    const snapshot: ScopeSnapshot = {
      kind: 'scope.snapshot',
      identityId: 'sa-1' as ScopeSnapshot['identityId'],
      version: 3,
      at: until,
      status: 'active',
      permissions: [
        { action: 'orders:read', resource: 'orders/1', access: 'read', validUntil: null, grants: ['g'] },
        { action: 'orders:write', resource: 'orders/1', access: 'write', validUntil: until, grants: ['j'] },
        { action: 'secrets:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['a'], sessions: ['s1', 's2'] as never },
      ],
      sessions: ['s1', 's2', 's3'] as never,
    };
    state.applyScope(snapshot);
    const watch = new ScopeWatch(state, () => [], 1000, 1);
    expect(watch.scopeOf('sa-1')).toEqual({
      identityId: 'sa-1',
      known: true,
      version: 3,
      status: 'active',
      permissions: [
        { action: 'orders:read', resource: 'orders/1', validUntil: null },
        { action: 'orders:write', resource: 'orders/1', validUntil: until },
        { action: 'secrets:read', resource: 'secret/x', validUntil: null, boundSessions: 2 },
      ],
      sessions: 3,
    });
    expect(watch.scopeOf('nobody')).toEqual({ identityId: 'nobody', known: false, version: 0, permissions: [], sessions: 0 });
  });
});
