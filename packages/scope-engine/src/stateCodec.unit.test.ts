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

  it('round-trips globals with orders and windows', () => {
    const r = run();
    r.send(ev.order({ orderId: 'o1', kind: 'deny-actions', actions: ['db:write'], target: { selector: { namespace: 'pay' } }, reason: 'r', actor: 'a' }, T0));
    const g = r.engine.globals;
    expect(decodeGlobals(encodeGlobals(g))).toEqual(g);
  });
});
