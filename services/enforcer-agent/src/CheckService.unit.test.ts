import { EnforcerState, type ScopeSnapshot } from '@livescope/enforcer';
import { describe, expect, it } from 'vitest';
import { CheckService } from './CheckService.js';
import { IdentityResolver } from './IdentityResolver.js';
import { RouteTable } from './RouteTable.js';

/** The decision path over a real EnforcerState holding one identity (no broker: state applied as the consumer applies it). */
function service(o: { ready?: boolean; trustCallerIdentity?: boolean; maxServed?: number } = {}): CheckService {
  const state = new EnforcerState(() => 0);
  const snapshot: ScopeSnapshot = { kind: 'scope.snapshot', identityId: 'sa-1' as ScopeSnapshot['identityId'], version: 4, at: new Date().toISOString(), status: 'active', permissions: [{ action: 'orders:read', resource: 'orders/1', access: 'read', validUntil: null, grants: ['g'] }], sessions: [] };
  state.applyScope(snapshot);
  const options = { requireSession: false, sensitive: () => false, maxStalenessMs: 30_000 };
  return new CheckService({
    enforcer: { authorize: (id, session, action, resource) => state.authorize(id, session, action, resource, Date.now(), options) },
    identities: new IdentityResolver({ sources: ['header'], header: { identity: 'x-id' } }),
    routes: new RouteTable([{ path: '/orders/{id}', action: 'orders:read', resource: 'orders/{id}' }]),
    ready: () => o.ready ?? true,
    trustCallerIdentity: o.trustCallerIdentity ?? false,
    ...(o.maxServed !== undefined ? { maxServed: o.maxServed } : {}),
  });
}

describe('CheckService', () => {
  it('denies everything until the scope has been read (fail closed)', async () => {
    expect(await service({ ready: false }).check({ method: 'GET', path: '/orders/1', headers: { 'x-id': 'sa-1' } })).toMatchObject({ allowed: false, code: 'not-ready' });
    expect(await service().check({ method: 'GET', path: '/orders/1', headers: { 'x-id': 'sa-1' } })).toMatchObject({ allowed: true, code: 'allowed', version: 4, identityId: 'sa-1' });
  });

  it('an identity given as such counts only when the caller is trusted', async () => {
    const input = { identity: 'sa-1', action: 'orders:read', resource: 'orders/1', headers: {} };
    expect(await service().check(input)).toMatchObject({ allowed: false, code: 'unauthenticated' });
    expect(await service({ trustCallerIdentity: true }).check(input)).toMatchObject({ allowed: true });
    expect(await service({ trustCallerIdentity: true }).check({ ...input, identity: 'has space' })).toMatchObject({ allowed: false, code: 'bad-request' });
  });

  it('unknown identities are denied, and the identities served are remembered up to a bound', async () => {
    const s = service({ maxServed: 2 });
    expect(await s.check({ method: 'GET', path: '/orders/1', headers: { 'x-id': 'sa-unknown' } })).toMatchObject({ allowed: false, code: 'unknown-identity' });
    for (const id of ['a', 'b', 'c']) await s.check({ method: 'GET', path: '/orders/1', headers: { 'x-id': id } });
    expect([...s.served.keys()]).toEqual(['b', 'c']);
  });
});
