import { describe, expect, it } from 'vitest';
import type { LikeElem } from './Expr.js';
import { compileLikePattern, matchLike } from './matchLike.js';

const pattern = (p: string): LikeElem[] => [...p].map((c) => (c === '*' ? { wildcard: true } : { literal: c }));
const like = (s: string, p: string): boolean => matchLike(s, compileLikePattern(pattern(p)));

describe('matchLike', () => {
  it('matches literal text and wildcards like Cedar', () => {
    expect(like('payments', 'pay*')).toBe(true);
    expect(like('payments', '*ments')).toBe(true);
    expect(like('payments', 'p*y*s')).toBe(true);
    expect(like('payments', 'p*z*s')).toBe(false);
    expect(like('', '*')).toBe(true);
    expect(like('ab', 'ab')).toBe(true);
    expect(like('ab', 'a')).toBe(false);
    expect(like('aba', 'a*a*a')).toBe(false);
    expect(like('abaa', 'a*a*a')).toBe(true);
    expect(like('😀x😀', '😀*😀')).toBe(true);
  });

  it('treats an escaped star as a literal', () => {
    expect(matchLike('a*b', compileLikePattern([{ literal: 'a' }, { literal: '*' }, { literal: 'b' }]))).toBe(true);
    expect(matchLike('axb', compileLikePattern([{ literal: 'a' }, { literal: '*' }, { literal: 'b' }]))).toBe(false);
  });
});
