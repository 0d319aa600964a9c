import type { ScopeChange } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { decodeAuditKey, encodeAuditKey } from '../../audit/auditKey.js';
import { sinceVersions } from './views.js';

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
  it('round-trips history cursors and refuses forged ones', () => {
    const c = { at: new Date(T).toISOString(), partition: 2, seq: 41 };
    expect(decodeAuditKey(encodeAuditKey(c))).toEqual(c);
    expect(() => decodeAuditKey('nonsense')).toThrow(/cursor/);
    expect(() => decodeAuditKey(Buffer.from(JSON.stringify(['x', 1, 2])).toString('base64url'))).toThrow(/cursor/);
  });
});
