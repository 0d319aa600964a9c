import { identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { PermInterner } from './PermInterner.js';
import { decodeGlobals, decodeIdentity, encodeGlobals, encodeIdentity } from './stateCodec.js';
import { ev, MIN, nextId, perm, run, T0 } from './testing/fixtures.js';

describe('state codec', () => {
  it('round-trips a busy identity exactly', () => {
    const r = run();
    r.send(ev.created('sa-1', T0, { labels: { team: 'pay' } }));
    r.send(ev.granted('sa-1', 'g', 'db', [perm('db:read', 'db/a', 'read', { namespace: 'pay', labels: { tier: '1' } }), perm('db:write', 'db/a', 'write')], T0 + 1));
    r.send(ev.session('sa-1', 's1', T0 + 2, { tokenId: 't1', task: 'etl' }));
    r.send(ev.jit('sa-1', 'j1', [perm('vault:read', 'secret/x')], T0 + 5 * MIN, T0 + 3, 's1'));
    r.send(ev.lease('sa-1', 'l1', 'secret/x', T0 + 9 * MIN, T0 + 4, 's1'));
    r.send(ev.approval('sa-1', 'secret-retrieval', T0 + 7 * MIN, T0 + 5));
    r.send(identityEvent('telemetry.anomaly-detected', 'sa-1', { anomalyId: 'an1', kind: 'geo', severity: 'high', expiresAt: new Date(T0 + 8 * MIN).toISOString() }, { id: nextId(), time: T0 + 6 }));
    const s = r.engine.identity('sa-1')!;
    const back = decodeIdentity(encodeIdentity(s), new PermInterner());
    expect(back).toEqual(s);
    expect(encodeIdentity(back)).toBe(encodeIdentity(s));
  });

  it('reads v1 rows (ids as strings in the rings): duplicates and tombstones still hold after the upgrade', () => {
    const r = run();
    const created = ev.created('sa-1', T0);
    r.send(created);
    r.send(ev.granted('sa-1', 'g', 'db', [perm('db:read', 'db/a')], T0 + 1));
    r.send(ev.session('sa-1', 's1', T0 + 2));
    r.send(ev.taskCompleted('sa-1', 's1', T0 + 3));
    const v2 = JSON.parse(encodeIdentity(r.engine.identity('sa-1')!)) as Record<string, unknown>;
    const v1 = JSON.stringify({ ...v2, v: 1, tb: ['session:s1'], re: [created.id] });
    const back = decodeIdentity(v1, new PermInterner());
    const again = run();
    again.engine.load({ identities: [back] });
    expect(again.send(created).status).toBe('duplicate');
    // The ended session is tombstoned: a late start of it does not revive it.
    again.send(ev.session('sa-1', 's1', T0 + 4));
    expect(again.engine.identity('sa-1')!.sessions).toEqual([]);
  });

  it('round-trips globals with orders and windows', () => {
    const r = run();
    r.send(ev.order({ orderId: 'o1', kind: 'deny-actions', actions: ['db:write'], target: { selector: { namespace: 'pay' } }, reason: 'r', actor: 'a' }, T0));
    const g = r.engine.globals;
    expect(decodeGlobals(encodeGlobals(g))).toEqual(g);
  });
});
