import type { EnforcerAck } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { CommandTracker, defaultTrackerLimits } from './CommandTracker.js';

const T = Date.parse('2026-11-28T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const order = (eventId: string, orderId: string, eventType = 'order.issued') => ({ eventId, eventType, orderIds: [orderId] });

function ack(enforcerId: string, at: number, applied: { identityId: string; version: number; kind: 'scope.change' | 'scope.snapshot' | 'revocation'; producedAt?: number }[]): EnforcerAck {
  return {
    kind: 'enforcer.ack',
    enforcerId: enforcerId as EnforcerAck['enforcerId'],
    at: iso(at),
    identities: 10,
    rejected: 0,
    applied: applied.map((a) => ({ identityId: a.identityId as EnforcerAck['applied'][number]['identityId'], version: a.version, kind: a.kind, producedAt: iso(a.producedAt ?? T), appliedAt: iso(at) })),
  };
}

describe('CommandTracker', () => {
  it('counts the identities an order changed and which enforcement points applied every version', () => {
    const t = new CommandTracker();
    t.observeAck(ack('gw-a', T - 1000, []));
    t.observeAck(ack('gw-b', T - 1000, []));
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 4, producedAtMs: T, ...order('e1', 'o1') });
    t.observeCommand({ kind: 'scope', identityId: 'w2', version: 7, producedAtMs: T, ...order('e1', 'o1') });
    t.observeCommand({ kind: 'scope', identityId: 'w3', version: 2, producedAtMs: T, eventId: 'other', eventType: 'session.started', orderIds: [] });
    expect(t.progress('e1')).toMatchObject({ identitiesChanged: 2, changes: 2, revocations: 0, orderIds: ['o1'], eventType: 'order.issued' });
    expect(t.progress('other')).toBeUndefined();

    t.observeAck(ack('gw-a', T + 50, [{ identityId: 'w1', version: 4, kind: 'scope.change' }, { identityId: 'w2', version: 8, kind: 'scope.change' }]));
    t.observeAck(ack('gw-b', T + 60, [{ identityId: 'w1', version: 4, kind: 'scope.change' }]));
    expect(t.enforcement('e1', T + 100, 60_000)).toEqual({ known: ['gw-a', 'gw-b'], applied: ['gw-a'], verified: [], pending: ['gw-b'] });
    expect(t.eventsOfOrder('o1')).toEqual(['e1']);
  });

  it('says which of the enforcement points that applied an event were verified, by their latest acknowledgement', () => {
    const t = new CommandTracker();
    t.observeAck(ack('gw-signed', T - 1000, []), true);
    t.observeAck(ack('gw-plain', T - 1000, []));
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 4, producedAtMs: T, ...order('e1', 'o1') });
    t.observeAck(ack('gw-signed', T + 50, [{ identityId: 'w1', version: 4, kind: 'scope.change' }]), true);
    t.observeAck(ack('gw-plain', T + 50, [{ identityId: 'w1', version: 4, kind: 'scope.change' }]), false);
    expect(t.enforcement('e1', T + 100, 60_000)).toEqual({ known: ['gw-plain', 'gw-signed'], applied: ['gw-plain', 'gw-signed'], verified: ['gw-signed'], pending: [] });
  });

  it('accepts acknowledgements that arrive before the command they acknowledge', () => {
    const t = new CommandTracker();
    t.observeAck(ack('gw', T + 5, [{ identityId: 'w1', version: 3, kind: 'scope.snapshot' }]));
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 3, producedAtMs: T, ...order('e1', 'o1') });
    expect(t.enforcement('e1', T + 10, 60_000).applied).toEqual(['gw']);
  });

  it('matches revocations by identity, version and production instant; an older revocation ack does not count', () => {
    const t = new CommandTracker();
    t.observeCommand({ kind: 'revocation', identityId: 'w1', version: 5, producedAtMs: T + 10, ...order('e2', 'o2') });
    t.observeAck(ack('gw', T + 20, [{ identityId: 'w1', version: 5, kind: 'revocation', producedAt: T }]));
    expect(t.enforcement('e2', T + 30, 60_000)).toEqual({ known: ['gw'], applied: [], verified: [], pending: ['gw'] });
    t.observeAck(ack('gw', T + 40, [{ identityId: 'w1', version: 5, kind: 'revocation', producedAt: T + 10 }]));
    expect(t.enforcement('e2', T + 50, 60_000).applied).toEqual(['gw']);
  });

  it('does not take a revocation acknowledgement for the scope version of the same number', () => {
    const t = new CommandTracker();
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 5, producedAtMs: T, ...order('e3', 'o3') });
    t.observeAck(ack('gw', T + 20, [{ identityId: 'w1', version: 5, kind: 'revocation', producedAt: T }]));
    expect(t.enforcement('e3', T + 30, 60_000).applied).toEqual([]);
  });

  it('attributes commands naming no order to an order event the control plane published', () => {
    const t = new CommandTracker();
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 2, producedAtMs: T, eventId: 'mine', eventType: 'order.issued', orderIds: [] });
    expect(t.progress('mine')).toBeUndefined();
    t.expect('mine', 'o5', 'order.issued');
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 3, producedAtMs: T, eventId: 'mine', eventType: 'order.issued', orderIds: [] });
    expect(t.progress('mine')).toMatchObject({ identitiesChanged: 1, orderIds: ['o5'] });
    expect(t.eventsOfOrder('o5')).toEqual(['mine']);
  });

  it('keeps issue and lift apart and forgets enforcement points silent past the liveness window', () => {
    const t = new CommandTracker();
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 2, producedAtMs: T, ...order('issue', 'o4') });
    t.observeCommand({ kind: 'scope', identityId: 'w1', version: 3, producedAtMs: T + 5, ...order('lift', 'o4', 'order.lifted') });
    expect(t.eventsOfOrder('o4')).toEqual(['issue', 'lift']);
    t.observeAck(ack('old', T - 120_000, []));
    t.observeAck(ack('new', T, [{ identityId: 'w1', version: 3, kind: 'scope.change' }]));
    expect(t.enforcement('lift', T + 1000, 60_000)).toEqual({ known: ['new'], applied: ['new'], verified: [], pending: [] });
  });

  it('measures how far behind an enforcement point is, from commands produced after it was first heard from', () => {
    const t = new CommandTracker();
    t.observeAck(ack('gw', T, []));
    t.observeCommand({ kind: 'scope', identityId: 'a', version: 1, producedAtMs: T - 500, orderIds: [] });
    t.observeCommand({ kind: 'scope', identityId: 'b', version: 1, producedAtMs: T + 1000, orderIds: [] });
    t.observeCommand({ kind: 'scope', identityId: 'c', version: 1, producedAtMs: T + 2000, orderIds: [] });
    expect(t.staleness('gw', T + 10_000, 5000)).toEqual({ behindMs: 9000, pendingCommands: 2 });
    t.observeAck(ack('gw', T + 10_000, [{ identityId: 'b', version: 1, kind: 'scope.change' }]));
    expect(t.staleness('gw', T + 10_000, 5000)).toEqual({ behindMs: 8000, pendingCommands: 1 });
    t.observeAck(ack('gw', T + 10_000, [{ identityId: 'c', version: 2, kind: 'scope.change' }]));
    expect(t.staleness('gw', T + 10_000, 5000)).toEqual({ behindMs: 0, pendingCommands: 0 });
    expect(t.staleness('unknown', T, 5000)).toBeUndefined();
  });

  it('stays bounded: events, identities per event and enforcement points', () => {
    const t = new CommandTracker({ ...defaultTrackerLimits, maxEvents: 2, maxIdentitiesPerEvent: 3, maxEnforcers: 2 });
    for (const e of ['e1', 'e2', 'e3']) t.observeCommand({ kind: 'scope', identityId: 'x', version: 1, producedAtMs: T, ...order(e, `o-${e}`) });
    expect(t.progress('e1')).toBeUndefined();
    expect(t.eventsOfOrder('o-e1')).toEqual([]);
    for (let i = 0; i < 5; i++) t.observeCommand({ kind: 'scope', identityId: `id${i}`, version: 1, producedAtMs: T, ...order('big', 'o-big') });
    expect(t.progress('big')).toMatchObject({ identitiesChanged: 3, changes: 5, truncated: true });
    t.observeAck(ack('a', T, []));
    t.observeAck(ack('b', T + 1, []));
    t.observeAck(ack('c', T + 2, []));
    expect(t.knownEnforcers(T + 3, 60_000)).toEqual(['b', 'c']);
  });
});
