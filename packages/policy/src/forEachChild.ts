import type { Expr } from './Expr.js';

/** Calls `f` on each direct subexpression. */
export function forEachChild(e: Expr, f: (child: Expr) => void): void {
  switch (e.kind) {
    case 'lit':
    case 'var':
    case 'slot':
      return;
    case 'not':
    case 'neg':
    case 'isEmpty':
      f(e.arg);
      return;
    case 'and':
    case 'or':
    case 'binary':
      f(e.left);
      f(e.right);
      return;
    case 'attr':
    case 'has':
    case 'like':
      f(e.left);
      return;
    case 'is':
      f(e.left);
      if (e.in) f(e.in);
      return;
    case 'if':
      f(e.cond);
      f(e.then);
      f(e.else);
      return;
    case 'set':
      e.elements.forEach(f);
      return;
    case 'record':
      for (const [, v] of e.fields) f(v);
      return;
    case 'call':
      e.args.forEach(f);
      return;
  }
}
