import type { ScopeSnapshot } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { EnforcerState } from './EnforcerState.js';
import { enforcerMiddleware } from './middleware.js';

const T = Date.parse('2026-11-28T12:00:00Z');
const snap = (version: number, over: Partial<ScopeSnapshot> = {}): ScopeSnapshot =>
  ({
    kind: 'scope.snapshot',
    identityId: 'sa-1',
    version,
    at: new Date(T).toISOString(),
    status: 'active',
    permissions: [
      { action: 'db:read', resource: 'db/a', access: 'read', validUntil: null, grants: ['g'] },
      { action: 'vault:read', resource: 'secret/x', access: 'read', validUntil: new Date(T + 60_000).toISOString(), grants: ['j'] },
    ],
    sessions: ['s1'],
    ...over,
  }) as ScopeSnapshot;
const opts = { requireSession: true, sensitive: (a: string) => a === 'vault:read', maxStalenessMs: 5000 };

describe('EnforcerState', () => {
  it('allows in-scope actions in a live session and says why it denies the rest', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    s.heartbeat(0, T);
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts)).toMatchObject({ allowed: true, version: 1 });
    expect(s.authorize('sa-1', 's1', 'db:write', 'db/a', T, opts)).toMatchObject({ allowed: false, code: 'not-in-scope' });
    expect(s.authorize('sa-1', 's9', 'db:read', 'db/a', T, opts)).toMatchObject({ allowed: false, code: 'session-not-active' });
    expect(s.authorize('sa-1', undefined, 'db:read', 'db/a', T, opts)).toMatchObject({ allowed: false, code: 'session-not-active' });
    expect(s.authorize('nobody', 's1', 'db:read', 'db/a', T, opts)).toMatchObject({ allowed: false, code: 'unknown-identity' });
  });

  it('expires a permission locally at validUntil with no command', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    s.heartbeat(0, T + 59_000);
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T + 59_999, opts).allowed).toBe(true);
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T + 60_000, opts)).toMatchObject({ allowed: false, code: 'expired' });
  });

  it('applies only newer versions', () => {
    const s = new EnforcerState(() => 0);
    expect(s.applyScope(snap(2))).toBe('applied');
    expect(s.applyScope(snap(1, { permissions: [] }))).toBe('stale-version');
    expect(s.applyScope(snap(2, { permissions: [] }))).toBe('duplicate');
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts).allowed).toBe(true);
  });

  it('fails closed for sensitive actions when the pipeline is silent', () => {
    const s = new EnforcerState(() => 3);
    s.applyScope(snap(1));
    s.heartbeat(3, T);
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T + 4000, opts).allowed).toBe(true);
    const d = s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T + 6000, opts);
    expect(d).toMatchObject({ allowed: false, code: 'stale' });
    expect(d.reason).toMatch(/fail-closed/);
    // Non-sensitive actions keep working on the last known scope.
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T + 6000, opts).allowed).toBe(true);
  });

  it('a session revocation takes effect before the scope change arrives, and sticks', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    s.applyRevocation({ kind: 'revocation', revocationId: 'r', identityId: 'sa-1' as never, version: 1, at: new Date(T).toISOString(), target: { type: 'session', id: 's1', system: 'x' }, reason: 'task completed', cause: {} });
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts).code).toBe('session-not-active');
    s.applyScope(snap(2)); // a late command still listing s1 cannot revive it
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts).code).toBe('session-not-active');
  });
});

describe('session-bound permissions', () => {
  const bound = (over: Partial<ScopeSnapshot> = {}) =>
    snap(1, {
      sessions: ['s1', 's2', 's3'] as never,
      permissions: [
        { action: 'db:read', resource: 'db/a', access: 'read', validUntil: null, grants: ['g'] },
        // An approval given for s1 only (and a just-in-time grant bound to its task session s3).
        { action: 'secrets:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['approval-1'], sessions: ['s1', 's3'] as never },
      ],
      ...over,
    });

  it('allows a bound permission only in its sessions, and says why it denies it elsewhere', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(bound());
    expect(s.authorize('sa-1', 's1', 'secrets:read', 'secret/x', T, opts)).toMatchObject({ allowed: true, code: 'allowed' });
    expect(s.authorize('sa-1', 's3', 'secrets:read', 'secret/x', T, opts).allowed).toBe(true);
    const d = s.authorize('sa-1', 's2', 'secrets:read', 'secret/x', T, opts);
    expect(d).toMatchObject({ allowed: false, code: 'session-not-bound', version: 1 });
    expect(d.reason).toBe('secrets:read on secret/x holds only in sessions s1, s3 (version 1), not in session s2');
    expect(JSON.parse(JSON.stringify(d))).toEqual({ allowed: false, code: 'session-not-bound', reason: d.reason, version: 1 });
    // Unbound permissions hold in every live session.
    expect(s.authorize('sa-1', 's2', 'db:read', 'db/a', T, opts).allowed).toBe(true);
    // Without a session (where none is required), a bound permission is still refused.
    expect(s.authorize('sa-1', undefined, 'secrets:read', 'secret/x', T, { ...opts, requireSession: false }).reason).toMatch(/and no session was given/);
  });

  it('a bound session that is no longer live is refused as such, and a revoked one too', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(bound({ sessions: ['s2'] as never, version: 1 }));
    expect(s.authorize('sa-1', 's1', 'secrets:read', 'secret/x', T, opts).code).toBe('session-not-active');
    s.applyScope(bound({ version: 2 }));
    s.applyRevocation({ kind: 'revocation', revocationId: 'r', identityId: 'sa-1' as never, version: 2, at: new Date(T).toISOString(), target: { type: 'session', id: 's1', system: 'x' }, reason: 'task completed', cause: {} });
    expect(s.authorize('sa-1', 's1', 'secrets:read', 'secret/x', T, opts).code).toBe('session-not-active');
    expect(s.authorize('sa-1', 's3', 'secrets:read', 'secret/x', T, opts).allowed).toBe(true);
  });

  it('a permission held both bound and unbound (two grants) holds in every session; a later scope without the binding drops it', () => {
    const s = new EnforcerState(() => 0);
    const perms = bound().permissions;
    s.applyScope(snap(1, { sessions: ['s1', 's2'] as never, permissions: [...perms, { action: 'secrets:read', resource: 'secret/x', access: 'read', validUntil: null, grants: ['role'] }] }));
    expect(s.authorize('sa-1', 's2', 'secrets:read', 'secret/x', T, opts).allowed).toBe(true);
    expect(s.identities.get('sa-1')!.bound).toBeUndefined();
    s.applyScope(snap(2, { sessions: ['s1', 's2'] as never, permissions: perms }));
    expect(s.authorize('sa-1', 's2', 'secrets:read', 'secret/x', T, opts).code).toBe('session-not-bound');
  });
});

describe('interned permissions and the single-session check', () => {
  const revoke = (s: EnforcerState, session: string): void =>
    s.applyRevocation({ kind: 'revocation', revocationId: `r-${session}`, identityId: 'sa-1' as never, version: 1, at: new Date(T).toISOString(), target: { type: 'session', id: session, system: 'x' }, reason: 'task completed', cause: {} });

  it('a pair another identity holds is not in this one\'s scope; pairs nobody holds any more are forgotten', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    s.applyScope(snap(1, { identityId: 'sa-2' as never, permissions: [{ action: 'db:write', resource: 'db/a', access: 'write', validUntil: null, grants: ['g'] }] }));
    expect(s.authorize('sa-1', 's1', 'db:write', 'db/a', T, opts)).toMatchObject({ allowed: false, code: 'not-in-scope', reason: 'db:write on db/a is not in the runtime scope (version 1)' });
    expect(s.authorize('sa-2', 's1', 'db:write', 'db/a', T, opts).allowed).toBe(true);
    expect(s.permissionIds.size).toBe(3);
    s.applyScope(snap(2, { identityId: 'sa-2' as never, permissions: [{ action: 'db:read', resource: 'db/a', access: 'read', validUntil: null, grants: ['g'] }] }));
    expect(s.permissionIds.get('db:write', 'db/a')).toBeUndefined();
    expect(s.permissionIds.size).toBe(2);
    expect(s.authorize('sa-2', 's1', 'db:write', 'db/a', T, opts).code).toBe('not-in-scope');
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts).allowed).toBe(true);
  });

  it('lists the permissions held by name, bound ones with their sessions', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1, { permissions: [...snap(1).permissions, { action: 'secrets:read', resource: 'secret/y', access: 'read', validUntil: null, grants: ['a'], sessions: ['s1'] as never }] }));
    expect(s.permissionsOf(s.identities.get('sa-1')!)).toEqual([
      { action: 'db:read', resource: 'db/a', until: Number.POSITIVE_INFINITY, sessions: undefined },
      { action: 'vault:read', resource: 'secret/x', until: T + 60_000, sessions: undefined },
      { action: 'secrets:read', resource: 'secret/y', until: Number.POSITIVE_INFINITY, sessions: new Set(['s1']) },
    ]);
  });

  it('checks sessions alike with one, several or none left after revocations', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1, { sessions: ['s1', 's2'] as never }));
    expect(['s1', 's2', 's3'].map((x) => s.authorize('sa-1', x, 'db:read', 'db/a', T, opts).allowed)).toEqual([true, true, false]);
    revoke(s, 's1');
    expect(['s1', 's2', 's3'].map((x) => s.authorize('sa-1', x, 'db:read', 'db/a', T, opts).allowed)).toEqual([false, true, false]);
    revoke(s, 's2');
    expect(['s1', 's2', 's3'].map((x) => s.authorize('sa-1', x, 'db:read', 'db/a', T, opts).code)).toEqual(['session-not-active', 'session-not-active', 'session-not-active']);
    expect(s.authorize('sa-1', undefined, 'db:read', 'db/a', T, { ...opts, requireSession: false }).allowed).toBe(true);
  });

  it('an allowed decision without validUntil is made once per version and says the version it was made on', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    const d = s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts);
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts)).toBe(d);
    expect(JSON.parse(JSON.stringify(d))).toEqual({ allowed: true, code: 'allowed', reason: 'in scope at version 1', version: 1 });
    s.applyScope(snap(2));
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts)).toMatchObject({ allowed: true, reason: 'in scope at version 2', version: 2 });
    s.heartbeat(0, T);
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T, opts).reason).toBe(`in scope at version 2 until ${new Date(T + 60_000).toISOString()}`);
  });
});

describe('degraded enforcement point', () => {
  it('fails closed for sensitive actions with the reason while it may not see every command', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    s.heartbeat(0, T);
    s.degraded = 'consumer group livescope-enforcer-gw has another member';
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T, opts)).toMatchObject({ allowed: false, code: 'stale', reason: 'fail-closed: consumer group livescope-enforcer-gw has another member, and vault:read is sensitive' });
    expect(s.authorize('sa-1', 's1', 'db:read', 'db/a', T, opts).allowed).toBe(true);
    s.degraded = undefined;
    expect(s.authorize('sa-1', 's1', 'vault:read', 'secret/x', T, opts).allowed).toBe(true);
  });
});

describe('enforcerMiddleware', () => {
  it('answers 403 with the reason, or calls next', () => {
    const s = new EnforcerState(() => 0);
    s.applyScope(snap(1));
    const authorizer = { authorize: (i: string, se: string | undefined, a: string, r: string) => s.authorize(i, se, a, r, T, opts) };
    const mw = enforcerMiddleware(authorizer, { identity: (req) => req.headers['x-identity'] as string | undefined, session: (req) => req.headers['x-session'] as string | undefined, action: () => 'db:write', resource: () => 'db/a' });
    const res = { statusCode: 200, headers: {} as Record<string, string>, body: '', setHeader(k: string, v: string) { this.headers[k] = v; }, end(b: string) { this.body = b; } };
    let nexted = false;
    mw({ headers: { 'x-identity': 'sa-1', 'x-session': 's1' } } as never, res as never, () => (nexted = true));
    expect(nexted).toBe(false);
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'not-in-scope' });
  });
});
