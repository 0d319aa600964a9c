import { emptyGlobals, type ActiveOrder, type Globals } from '@livescope/scope-engine';
import { describe, expect, it } from 'vitest';
import { activeOrders } from './activeOrders.js';

const T = Date.parse('2026-11-28T12:00:00Z');
const order = (orderId: string, over: Partial<ActiveOrder> = {}): ActiveOrder => ({ orderId, kind: 'read-only', target: { identityId: 'w1' } as ActiveOrder['target'], actions: [], expiresAt: undefined, issuedAt: T, actor: 'alice', reason: 'INC', ...over });
const globalsWith = (...orders: ActiveOrder[]): Globals => ({ ...emptyGlobals(), orders: new Map(orders.map((o) => [o.orderId, o])) });

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
});
