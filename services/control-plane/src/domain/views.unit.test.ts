import type { ScopeChange } from '@livescope/contracts';
import { emptyGlobals, type ActiveOrder, type Globals } from '@livescope/scope-engine';
import { describe, expect, it } from 'vitest';
import { activeOrders, decodeCursor, describeCause, encodeCursor, historyItem, severitiesFrom, sinceVersions } from './views.js';

const T = Date.parse('2026-11-28T12:00:00Z');
const order = (orderId: string, over: Partial<ActiveOrder> = {}): ActiveOrder => ({ orderId, kind: 'read-only', target: { identityId: 'w1' } as ActiveOrder['target'], actions: [], expiresAt: undefined, issuedAt: T, actor: 'alice', reason: 'INC', ...over });
const globalsWith = (...orders: ActiveOrder[]): Globals => ({ ...emptyGlobals(), orders: new Map(orders.map((o) => [o.orderId, o])) });

const change = (version: number, added: string[], removed: string[] = []): ScopeChange =>
  ({
    kind: 'scope.change',
    identityId: 'w1',
    version,
    previousVersion: version - 1,
    at: new Date(T + version).toISOString(),
    status: 'active',
    permissions: [],
    sessions: [],
    direction: 'mixed',
    added: added.map((a) => ({ action: a, resource: 'r', access: 'read', cause: {} })),
    removed: removed.map((a) => ({ action: a, resource: 'r', access: 'read', cause: { orderIds: ['o1'] } })),
    cause: { eventId: 'e', eventType: 'order.issued', orderIds: ['o1'], actor: 'alice' },
  }) as unknown as ScopeChange;

describe('views', () => {
  it('lists orders in force across partitions, with how many partitions hold each, without expired ones', () => {
    const parts = [{ globals: globalsWith(order('o1'), order('old', { expiresAt: T - 1 })) }, { globals: globalsWith(order('o1'), order('o2', { issuedAt: T + 5, expiresAt: T + 60_000 })) }, { globals: null }];
    const list = activeOrders(parts, T);
    expect(list.map((o) => [o.orderId, o.partitions.holding, o.partitions.total])).toEqual([
      ['o2', 1, 3],
      ['o1', 2, 3],
    ]);
    expect(list[0]!.expiresAt).toBe(new Date(T + 60_000).toISOString());
  });

  it('finds the version at which each permission last entered the scope', () => {
    const since = sinceVersions(
      [
        { action: 'a', resource: 'r' },
        { action: 'b', resource: 'r' },
        { action: 'c', resource: 'r' },
      ],
      [change(5, ['a']), change(4, [], ['a']), change(2, ['a', 'b'])],
    );
    expect(since.get('a\u0000r')?.version).toBe(5);
    expect(since.get('b\u0000r')?.version).toBe(2);
    expect(since.has('c\u0000r')).toBe(false);
  });

  it('summarises audit rows with their causes', () => {
    const item = historyItem({ partition: 1, seq: 9, at: new Date(T).toISOString(), kind: 'scope.change', identityId: 'w1', version: 3, actor: 'alice', eventId: 'e', payload: JSON.stringify(change(3, [], ['db:write'])) });
    expect(item.summary).toBe('v3 mixed: removed db:write r — order o1 by alice');
    expect(item.direction).toBe('mixed');
    expect(describeCause({ timer: true })).toBe('time (validUntil passed)');
    expect(describeCause({ eventType: 'order.lifted', orderIds: ['o9'], actor: 'bob' })).toBe('order o9 lifted by bob');
  });

  it('round-trips history cursors and refuses forged ones', () => {
    const c = { at: new Date(T).toISOString(), partition: 2, seq: 41 };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(() => decodeCursor('nonsense')).toThrow(/cursor/);
  });

  it('expands a minimum severity', () => {
    expect(severitiesFrom('high')).toEqual(['high', 'critical']);
  });
});
