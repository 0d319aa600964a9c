import { describe, expect, it } from 'vitest';
import { untilIn } from './EnforcerState.js';
import { PermissionIds } from './PermissionIds.js';

describe('PermissionIds', () => {
  it('gives every holder of a pair the same id, and forgets the pair when the last holder lets it go', () => {
    const ids = new PermissionIds();
    const a = ids.acquire('db:read', 'db/a');
    expect(ids.acquire('db:read', 'db/a')).toBe(a);
    const b = ids.acquire('db:read', 'db/b');
    expect(b).not.toBe(a);
    expect([ids.get('db:read', 'db/a'), ids.action(a), ids.resource(a), ids.size]).toEqual([a, 'db:read', 'db/a', 2]);
    ids.release(a);
    expect(ids.get('db:read', 'db/a')).toBe(a);
    ids.release(a);
    expect(ids.get('db:read', 'db/a')).toBeUndefined();
    expect(ids.size).toBe(1);
    // The freed id is reused for the next new pair: the table is bounded by the pairs held.
    expect(ids.acquire('db:write', 'db/c')).toBe(a);
    expect(ids.get('db:read', 'db/b')).toBe(b);
  });
});

describe('untilIn', () => {
  const flat = (ids: number[]): number[] => ids.flatMap((id) => [id, 1000 + id]);

  it('finds every held id and no other, by scan (few permissions) and by search (many)', () => {
    for (const n of [0, 1, 3, 16, 17, 100]) {
      const held = Array.from({ length: n }, (_, i) => i * 3 + 1);
      const perms = flat(held);
      for (const id of held) expect(untilIn(perms, id)).toBe(1000 + id);
      for (const id of [0, 2, 3, n * 3 + 1, n * 3 + 5]) expect(untilIn(perms, id)).toBeUndefined();
    }
  });
});
