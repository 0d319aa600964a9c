import type { CedarValue } from './CedarValue.js';
import { compileExpr, type EvalEnv, type Evaluator } from './compileExpr.js';
import { DAY_MS, Datetime } from './Datetime.js';
import { Duration } from './Duration.js';
import type { Expr, PolicyIr } from './Expr.js';
import { forEachChild } from './forEachChild.js';

/**
 * How a value depends on the evaluation instant `t` (= `context.now`, in epoch ms), with the
 * now-independent parts compiled so they can be evaluated for the request at hand:
 * - `datetime`: t + Σ offsets (`context.now.offset(d)…`)
 * - `linear`:   sign·t + Σ parts, a duration (`context.now.durationSince(x)`, `x.durationSince(context.now)`)
 * - `timeOfDay`: (t + Σ shift) mod 1 day, a duration (`….toTime()`)
 * - `date`: midnight of t + Σ shift (`….toDate()`)
 * - `long`: trunc(inner / unit) (`toMilliseconds()`…`toDays()` of a linear or time-of-day term)
 */
type Part = { readonly sign: 1 | -1; readonly value: Evaluator };
export type NowTerm =
  | { readonly kind: 'datetime'; readonly parts: readonly Part[] }
  | { readonly kind: 'linear'; readonly sign: 1 | -1; readonly parts: readonly Part[] }
  | { readonly kind: 'timeOfDay'; readonly parts: readonly Part[] }
  | { readonly kind: 'date'; readonly parts: readonly Part[] }
  | { readonly kind: 'long'; readonly unit: number; readonly inner: LinearTerm | TimeOfDayTerm };
type LinearTerm = NowTerm & { readonly kind: 'linear' };
type TimeOfDayTerm = NowTerm & { readonly kind: 'timeOfDay' };

/** A comparison of a now-term with a now-independent value: the only place a decision meets time. */
export interface TimeAtom {
  readonly term: NowTerm;
  readonly other: Evaluator;
}

/** Per policy: the time atoms, or `opaque` when `context.now` is used in a way not analysed. */
export type HorizonPlan = { readonly atoms: readonly TimeAtom[]; readonly opaque: boolean };

const UNITS: Readonly<Record<string, number>> = { toMilliseconds: 1, toSeconds: 1000, toMinutes: 60_000, toHours: 3_600_000, toDays: 86_400_000 };
const COMPARISONS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

function isNow(e: Expr): boolean {
  return e.kind === 'attr' && e.attr === 'now' && e.left.kind === 'var' && e.left.name === 'context';
}

/** Whether `e` can read `context.now` (directly, or through the whole context record). */
function readsNow(e: Expr): boolean {
  if (isNow(e)) return true;
  if (e.kind === 'var' && e.name === 'context') return true;
  if (e.kind === 'attr' && e.left.kind === 'var' && e.left.name === 'context') return false;
  if (e.kind === 'has' && e.left.kind === 'var') return false;
  let found = false;
  forEachChild(e, (c) => {
    found ||= readsNow(c);
  });
  return found;
}

function negate(parts: readonly Part[]): Part[] {
  return parts.map((p) => ({ sign: p.sign === 1 ? -1 : 1, value: p.value }));
}

/** The now-term `e` is, or undefined when it is not one of the analysed shapes. */
function classify(e: Expr): NowTerm | undefined {
  if (isNow(e)) return { kind: 'datetime', parts: [] };
  if (e.kind !== 'call') return undefined;
  const [a, b] = e.args;
  if (!a) return undefined;
  switch (e.fn) {
    case 'offset': {
      const t = classify(a);
      if (t?.kind !== 'datetime' || !b || readsNow(b)) return undefined;
      return { kind: 'datetime', parts: [...t.parts, { sign: 1, value: compileExpr(b) }] };
    }
    case 'durationSince': {
      if (!b) return undefined;
      const ta = classify(a);
      if (ta?.kind === 'datetime' && !readsNow(b)) return { kind: 'linear', sign: 1, parts: [...ta.parts, { sign: -1, value: compileExpr(b) }] };
      const tb = classify(b);
      if (tb?.kind === 'datetime' && !readsNow(a)) return { kind: 'linear', sign: -1, parts: [{ sign: 1, value: compileExpr(a) }, ...negate(tb.parts)] };
      return undefined;
    }
    case 'toTime':
    case 'toDate': {
      const t = classify(a);
      if (t?.kind !== 'datetime') return undefined;
      return { kind: e.fn === 'toTime' ? 'timeOfDay' : 'date', parts: t.parts };
    }
    default: {
      const unit = UNITS[e.fn];
      if (unit === undefined) return undefined;
      const t = classify(a);
      if (t?.kind !== 'linear' && t?.kind !== 'timeOfDay') return undefined;
      return { kind: 'long', unit, inner: t };
    }
  }
}

/**
 * Finds where a policy compares the evaluation instant with something else. Any other use of
 * `context.now` (or of the whole context) makes the plan opaque: the horizon is then the next
 * millisecond, which is always safe.
 */
export function planHorizon(ir: PolicyIr): HorizonPlan | undefined {
  const atoms: TimeAtom[] = [];
  let opaque = false;
  const visit = (e: Expr): void => {
    if (e.kind === 'binary' && COMPARISONS.has(e.op)) {
      const l = classify(e.left);
      if (l && !readsNow(e.right)) {
        atoms.push({ term: l, other: compileExpr(e.right) });
        return;
      }
      const r = classify(e.right);
      if (r && !readsNow(e.left)) {
        atoms.push({ term: r, other: compileExpr(e.left) });
        return;
      }
    }
    if (isNow(e) || (e.kind === 'var' && e.name === 'context')) {
      opaque = true;
      return;
    }
    if (e.kind === 'attr' && e.left.kind === 'var' && e.left.name === 'context') return;
    if (e.kind === 'has' && e.left.kind === 'var') return;
    forEachChild(e, visit);
  };
  for (const c of ir.conditions) visit(c.body);
  return atoms.length === 0 && !opaque ? undefined : { atoms, opaque };
}

function msOf(v: CedarValue): number | undefined {
  if (v instanceof Datetime || v instanceof Duration) return Number(v.ms);
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  return undefined;
}

function sum(parts: readonly Part[], env: EvalEnv): number | undefined {
  let total = 0;
  for (const p of parts) {
    let ms: number | undefined;
    try {
      ms = msOf(p.value(env));
    } catch {
      return undefined;
    }
    if (ms === undefined) return undefined;
    total += p.sign * ms;
  }
  return total;
}

const mod = (x: number, m: number): number => ((x % m) + m) % m;

/** Instants (absolute) and times of day (daily) at which the term takes the value `x`. */
function instantsOf(term: NowTerm, x: number, env: EvalEnv, out: { absolute: number[]; daily: number[] }): void {
  switch (term.kind) {
    case 'datetime': {
      const c = sum(term.parts, env);
      if (c !== undefined) out.absolute.push(x - c);
      return;
    }
    case 'linear': {
      const c = sum(term.parts, env);
      if (c !== undefined) out.absolute.push(term.sign * (x - c));
      return;
    }
    case 'timeOfDay': {
      const c = sum(term.parts, env);
      if (c === undefined) return;
      if (x >= 0 && x < DAY_MS) out.daily.push(mod(x - c, DAY_MS));
      // The value drops back to zero at (shifted) midnight.
      out.daily.push(mod(-c, DAY_MS));
      return;
    }
    case 'date': {
      // Not periodic: the date only steps at midnights, and a comparison with `x` flips at the
      // midnights around `x`.
      const c = sum(term.parts, env);
      if (c === undefined) return;
      const m = x - mod(x, DAY_MS);
      for (const v of [m - DAY_MS, m, m + DAY_MS]) out.absolute.push(v - c, v - c - 1, v - c + 1);
      return;
    }
    case 'long':
      // trunc(inner / unit) changes next to multiples of the unit.
      for (const m of [x - 2, x - 1, x, x + 1, x + 2]) {
        for (const d of [-1, 0, 1]) instantsOf(term.inner, m * term.unit + d, env, out);
      }
      return;
  }
}

/**
 * Candidate instants at which the atoms of these plans can change value for this request: every
 * instant where a compared now-term reaches the other side's value (±1 ms), absolute or daily.
 */
export function horizonCandidates(plans: readonly HorizonPlan[], env: EvalEnv): { absolute: number[]; daily: number[] } {
  const out = { absolute: [] as number[], daily: [] as number[] };
  for (const plan of plans) {
    for (const atom of plan.atoms) {
      let other: CedarValue;
      try {
        other = atom.other(env);
      } catch {
        continue; // the comparison fails whatever the time: it never changes
      }
      const x = msOf(other);
      if (x === undefined) continue;
      for (const v of [x - 1, x, x + 1, x + 2]) instantsOf(atom.term, v, env, out);
    }
  }
  const absolute = [...new Set(out.absolute.filter((t) => Number.isFinite(t)).map(Math.round))].sort((a, b) => a - b);
  const daily = [...new Set(out.daily.map(Math.round))].sort((a, b) => a - b);
  return { absolute, daily };
}
