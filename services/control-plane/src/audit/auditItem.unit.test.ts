import type { ScopeChange } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { describeCause, historyItem } from './auditItem.js';

const T = Date.parse('2026-11-28T12:00:00Z');

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
  it('summarises audit rows with their causes', () => {
    const item = historyItem({ partition: 1, seq: 9, at: new Date(T).toISOString(), kind: 'scope.change', identityId: 'w1', version: 3, actor: 'alice', eventId: 'e', payload: JSON.stringify(change(3, [], ['db:write'])) });
    expect(item.summary).toBe('v3 mixed: removed db:write r — order o1 by alice');
    expect(item.direction).toBe('mixed');
    expect(describeCause({ timer: true })).toBe('time (validUntil passed)');
    expect(describeCause({ eventType: 'order.lifted', orderIds: ['o9'], actor: 'bob' })).toBe('order o9 lifted by bob');
  });
});
