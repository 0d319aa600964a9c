import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, isIntegerKey, pageOfList, pageQuery } from './pagination.js';

describe('cursor pagination', () => {
  const items = ['e', 'a', 'd', 'c', 'b'].map((id) => ({ id }));

  it('walks a list in key order, a page at a time, to a null nextCursor', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const { page, nextCursor } = pageOfList(items, (x) => x.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.map((x) => x.id));
      if (nextCursor === null) break;
      cursor = nextCursor;
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps its place when the item it stopped at goes away', () => {
    const first = pageOfList(items, (x) => x.id, { limit: 2 });
    const rest = pageOfList(items.filter((x) => x.id !== 'b'), (x) => x.id, { limit: 10, cursor: first.nextCursor! });
    expect(rest.page.map((x) => x.id)).toEqual(['c', 'd', 'e']);
  });

  it('refuses a cursor it did not make with 400 naming query.cursor', () => {
    for (const forged of ['nonsense', encodeCursor(['x', 1]), Buffer.from('{"a":1}').toString('base64url'), encodeCursor(['1e400'])]) {
      try {
        decodeCursor(forged, isIntegerKey);
        expect.unreachable(`accepted ${forged}`);
      } catch (e) {
        expect(e).toMatchObject({ code: 'INVALID_REQUEST', paths: ['query.cursor'] });
      }
    }
  });

  it('bounds limit and cursor length', () => {
    const q = pageQuery(50, 500);
    expect(q.parse({})).toEqual({ limit: 50 });
    expect(q.safeParse({ limit: '501' }).success).toBe(false);
    expect(q.safeParse({ limit: '0' }).success).toBe(false);
    expect(q.safeParse({ cursor: 'x'.repeat(513) }).success).toBe(false);
  });
});
