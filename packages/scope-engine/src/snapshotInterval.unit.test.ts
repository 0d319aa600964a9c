import { identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { emptyOutput } from './EngineOutput.js';
import { ScopeEngine } from './ScopeEngine.js';
import { permitAllPolicy } from './ScopePolicy.js';
import { decodeIdentity, encodeIdentity } from './stateCodec.js';
import { ev, MIN, nextId, perm, run, T0 } from './testing/fixtures.js';

/**
 * Snapshots at most once per identity per `snapshotIntervalMs`: a change carries the full scope, so
 * its snapshot waits; the timer produces it with the version held then, and the pending snapshot is
 * part of the persisted state (a restart or a rebalance produces it too).
 */
const INTERVAL = 10_000;
const spaced = () => run(permitAllPolicy, { config: { snapshotIntervalMs: INTERVAL } });
const grant = (id: string, grantId: string, action: string, at: number) => ev.granted(id, grantId, 'role', [perm(action, 'db/x', action.endsWith('write') ? 'write' : 'read')], at);

describe('snapshots spaced by snapshotIntervalMs', () => {
  it('a change is produced at once, its snapshot when the interval has passed, with the version held then', () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    expect(r.send(grant('sa-1', 'g1', 'db:read', T0 + 1))).toMatchObject({ status: 'applied' });
    expect(r.out.changes.map((c) => c.version)).toEqual([1]);
    expect(r.out.snapshots).toEqual([]);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBe(T0 + 1 + INTERVAL);
    // A second change inside the interval rides on the snapshot already scheduled.
    r.send(grant('sa-1', 'g2', 'db:write', T0 + 2_000));
    expect(r.out.changes.map((c) => c.version)).toEqual([2]);
    expect(r.out.snapshots).toEqual([]);
    expect(r.engine.nextWakeAt()).toBe(T0 + 1 + INTERVAL);
    expect(r.tick(T0 + INTERVAL).snapshots).toEqual([]);
    const out = r.tick(T0 + 1 + INTERVAL);
    expect(out.changes).toEqual([]);
    expect(out.snapshots).toHaveLength(1);
    expect(out.snapshots[0]).toMatchObject({ kind: 'scope.snapshot', identityId: 'sa-1', version: 2, at: new Date(T0 + 1 + INTERVAL).toISOString(), status: 'active' });
    expect(out.snapshots[0]!.permissions.map((p) => p.action).sort()).toEqual(['db:read', 'db:write']);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBeNull();
    expect(r.engine.drainDirty().identities.map((s) => s.id)).toContain('sa-1');
    // Nothing more is due: the next tick produces nothing.
    expect(r.tick(T0 + 10 * INTERVAL).snapshots).toEqual([]);
  });

  it('the next change after a snapshot schedules the next one an interval later', () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    r.tick(T0 + 1 + INTERVAL);
    r.send(grant('sa-1', 'g2', 'db:write', T0 + 1 + INTERVAL + 5));
    expect(r.out.snapshots).toEqual([]);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBe(T0 + 1 + 2 * INTERVAL + 5);
  });

  it("an identity's next event after its snapshot fell due produces the snapshot without a tick, before the event's change", () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    r.send(grant('sa-1', 'g2', 'db:write', T0 + 1 + INTERVAL + 1));
    expect(r.out.snapshots.map((s) => s.version)).toEqual([1]);
    expect(r.out.changes.map((c) => c.version)).toEqual([2]);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBe(T0 + 1 + 2 * INTERVAL + 1);
  });

  it('an event that changes nothing still produces the snapshot that fell due', () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    const noop = identityEvent('telemetry.risk-scored', 'sa-1', { score: 0, model: 'm' }, { id: nextId(), time: T0 + 2 * INTERVAL });
    r.send(noop);
    expect(r.out.snapshots.map((s) => s.version)).toEqual([1]);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBeNull();
  });

  it('a replay of old events is spaced from the last tick, not from their old message times', () => {
    const r = spaced();
    const now = T0 + 60 * MIN;
    r.tick(now);
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    expect(r.engine.identity('sa-1')!.snapshotAt).toBe(now + INTERVAL);
    expect(r.tick(now + 100).snapshots).toEqual([]);
    expect(r.tick(now + INTERVAL).snapshots.map((s) => s.version)).toEqual([1]);
  });

  it('an org-wide order narrowing many identities produces their changes now and their snapshots once, an interval later', () => {
    const r = spaced();
    for (const id of ['w-1', 'w-2', 'w-3']) {
      r.send(ev.created(id, T0, { namespace: 'payments' }));
      r.send(grant(id, `g-${id}`, 'db:write', T0 + 1));
    }
    r.tick(T0 + 1 + INTERVAL);
    r.send(ev.order({ orderId: 'o1', kind: 'read-only', target: { selector: { namespace: 'payments' } }, reason: 'incident', actor: 'bob' }, T0 + 2 * INTERVAL));
    expect(r.out.changes.map((c) => [c.identityId, c.direction])).toEqual([
      ['w-1', 'narrowing'],
      ['w-2', 'narrowing'],
      ['w-3', 'narrowing'],
    ]);
    expect(r.out.snapshots).toEqual([]);
    const out = r.tick(T0 + 3 * INTERVAL);
    expect(out.snapshots.map((s) => [s.identityId, s.version, s.permissions.length]).sort()).toEqual([
      ['w-1', 2, 0],
      ['w-2', 2, 0],
      ['w-3', 2, 0],
    ]);
  });

  it('an offboarded identity gets its snapshot (status deleted), so a bootstrapping enforcement point learns it', () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    r.tick(T0 + 1 + INTERVAL);
    r.send(identityEvent('identity.deleted', 'sa-1', { reason: 'offboarded' }, { id: nextId(), time: T0 + 2 * INTERVAL }));
    expect(r.out.snapshots).toEqual([]);
    expect(r.tick(T0 + 3 * INTERVAL).snapshots).toMatchObject([{ identityId: 'sa-1', version: 2, status: 'deleted', permissions: [] }]);
  });

  it('a pending snapshot survives a restart: it is in the stored state, and the reloaded engine produces it when due', () => {
    const r = spaced();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    const stored = r.engine.drainDirty().identities.map(encodeIdentity);
    const reloaded = new ScopeEngine({ compilePolicies: () => permitAllPolicy, verifyReleaseWindow: () => true, config: { snapshotIntervalMs: INTERVAL } });
    reloaded.load({ identities: stored.map((text) => decodeIdentity(text, reloaded.permInterner)) });
    expect(reloaded.identity('sa-1')!.snapshotAt).toBe(T0 + 1 + INTERVAL);
    expect(reloaded.nextWakeAt()).toBe(T0 + 1 + INTERVAL);
    const out = emptyOutput();
    // A worker that restarts long after the snapshot fell due produces it at its first tick.
    expect(reloaded.tick(T0 + 60 * MIN, out)).toBe(1);
    expect(out.snapshots).toMatchObject([{ identityId: 'sa-1', version: 1 }]);
    expect(encodeIdentity(reloaded.identity('sa-1')!)).not.toContain('"sd"');
  });

  it('an event that is refused leaves no snapshot scheduled (the rollback restores the state before it)', () => {
    const r = run(permitAllPolicy, { config: { snapshotIntervalMs: INTERVAL, limits: { grants: 1 } } });
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    r.tick(T0 + 1 + INTERVAL);
    expect(r.send(grant('sa-1', 'g2', 'db:write', T0 + 2 * INTERVAL))).toMatchObject({ status: 'rejected', reason: 'limit-exceeded' });
    expect(r.engine.identity('sa-1')!.snapshotAt).toBeNull();
    expect(r.engine.nextWakeAt()).not.toBe(T0 + 2 * INTERVAL + INTERVAL);
  });

  it('with an interval of 0 every change comes with its snapshot (the engine default)', () => {
    const r = run();
    r.send(ev.created('sa-1', T0));
    r.send(grant('sa-1', 'g1', 'db:read', T0 + 1));
    expect(r.out.snapshots.map((s) => s.version)).toEqual([1]);
    expect(r.engine.identity('sa-1')!.snapshotAt).toBeNull();
  });
});
