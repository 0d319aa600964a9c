import type { LikeElem } from './Expr.js';

/** A compiled `like` pattern: literal runs separated by wildcards. */
export interface LikePattern {
  /** Literal text between wildcards: `a*b*c` → ['a', 'b', 'c']; a leading/trailing `*` gives ''. */
  readonly parts: readonly string[];
}

export function compileLikePattern(elems: readonly LikeElem[]): LikePattern {
  const parts: string[] = [''];
  for (const e of elems) {
    if ('wildcard' in e) parts.push('');
    else parts[parts.length - 1] += e.literal;
  }
  return { parts };
}

/**
 * Cedar `like`: `*` matches any run of characters, everything else matches itself. Greedy-leftmost
 * matching of the literal runs is exact for this pattern language (no backtracking needed).
 */
export function matchLike(s: string, { parts }: LikePattern): boolean {
  const first = parts[0] as string;
  if (parts.length === 1) return s === first;
  if (!s.startsWith(first)) return false;
  const last = parts[parts.length - 1] as string;
  if (s.length - first.length < last.length || !s.endsWith(last)) return false;
  let pos = first.length;
  const end = s.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const at = s.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}
