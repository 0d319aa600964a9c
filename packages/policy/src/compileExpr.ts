import { isCedarRecord, isCedarSet, setContains, setElements, valueEquals, type CedarSet, type CedarValue } from './CedarValue.js';
import { Datetime } from './Datetime.js';
import { Duration } from './Duration.js';
import { EntityUid } from './EntityUid.js';
import { EvalEnv } from './EvalEnv.js';
import type { BinaryOp, Expr, Var } from './Expr.js';
import { extensionFunctions, typeError } from './extensionFunctions.js';
import { addLong, mulLong, negLong, subLong, type Long } from './Long.js';
import { compileLikePattern, matchLike } from './matchLike.js';
import { evaluationError } from './PolicyError.js';


export { EvalEnv };

/** A compiled expression. Throws a `PolicyError` with code `POLICY_EVALUATION` on a Cedar error. */
export type Evaluator = (env: EvalEnv) => CedarValue;

const EMPTY_ENV = new EvalEnv(new EntityUid('', ''), new EntityUid('', ''), new EntityUid('', ''), {}, { get: () => undefined });

function bool(v: CedarValue): boolean {
  return typeof v === 'boolean' ? v : typeError('bool', v);
}
function long(v: CedarValue): Long {
  return typeof v === 'number' || typeof v === 'bigint' ? v : typeError('long', v);
}
function entity(v: CedarValue): EntityUid {
  return v instanceof EntityUid ? v : typeError('entity', v);
}
function set(v: CedarValue): CedarSet {
  return isCedarSet(v) ? v : typeError('set', v);
}
function str(v: CedarValue): string {
  return typeof v === 'string' ? v : typeError('string', v);
}

/** `<` on Longs, datetimes and durations (Cedar overloads the comparisons for the two time types). */
function less(a: CedarValue, b: CedarValue, orEqual: boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return orEqual ? a <= b : a < b;
  if (typeof a === 'number' || typeof a === 'bigint') {
    if (typeof b !== 'number' && typeof b !== 'bigint') typeError('long', b);
    return orEqual ? a <= b : a < b;
  }
  if (a instanceof Datetime) {
    if (!(b instanceof Datetime)) typeError('datetime', b);
    return orEqual ? a.ms <= b.ms : a.ms < b.ms;
  }
  if (a instanceof Duration) {
    if (!(b instanceof Duration)) typeError('duration', b);
    return orEqual ? a.ms <= b.ms : a.ms < b.ms;
  }
  return typeError('long, datetime or duration', a);
}

function entityAttr(env: EvalEnv, u: EntityUid, attr: string): CedarValue {
  const e = env.entity(u);
  if (!e) throw evaluationError(`entity \`${u.toString()}\` does not exist`);
  const attrs = e.attrs;
  if (!Object.hasOwn(attrs, attr)) throw evaluationError(`\`${u.toString()}\` does not have the attribute \`${attr}\``);
  return attrs[attr] as CedarValue;
}

/** Attribute access `v.attr` on an entity (looked up in the store) or a record. */
export function getAttr(v: CedarValue, attr: string, env: EvalEnv): CedarValue {
  if (v instanceof EntityUid) return entityAttr(env, v, attr);
  if (isCedarRecord(v)) {
    if (!Object.hasOwn(v, attr)) throw evaluationError(`record does not have the attribute \`${attr}\``);
    return v[attr] as CedarValue;
  }
  return typeError('entity or record', v);
}

/** `v has attr`: false for an entity missing from the store. */
export function hasAttr(v: CedarValue, attr: string, env: EvalEnv): boolean {
  if (v instanceof EntityUid) {
    const e = env.entity(v);
    return e !== undefined && Object.hasOwn(e.attrs, attr);
  }
  if (isCedarRecord(v)) return Object.hasOwn(v, attr);
  return typeError('entity or record', v);
}

function inOp(a: CedarValue, b: CedarValue, env: EvalEnv): boolean {
  const left = entity(a);
  if (b instanceof EntityUid) return env.in(left, b);
  if (!isCedarSet(b)) return typeError('set or entity', b);
  // Cedar checks every element is an entity before testing any of them.
  const targets = setElements(b);
  for (const t of targets) if (!(t instanceof EntityUid)) typeError('entity', t);
  for (const t of targets as readonly EntityUid[]) if (env.in(left, t)) return true;
  return false;
}

function isStoreFree(e: Expr): boolean {
  switch (e.kind) {
    case 'lit':
      return true;
    case 'var':
    case 'slot':
    case 'attr':
    case 'has':
      return false;
    case 'not':
    case 'neg':
    case 'isEmpty':
      return isStoreFree(e.arg);
    case 'and':
    case 'or':
      return isStoreFree(e.left) && isStoreFree(e.right);
    case 'binary':
      return e.op !== 'in' && e.op !== 'getTag' && e.op !== 'hasTag' && isStoreFree(e.left) && isStoreFree(e.right);
    case 'like':
      return isStoreFree(e.left);
    case 'is':
      return e.in === undefined && isStoreFree(e.left);
    case 'if':
      return isStoreFree(e.cond) && isStoreFree(e.then) && isStoreFree(e.else);
    case 'set':
      return e.elements.every(isStoreFree);
    case 'record':
      return e.fields.every(([, v]) => isStoreFree(v));
    case 'call':
      return e.args.every(isStoreFree);
  }
}

/**
 * Compiles an expression to a closure. Subexpressions that read neither the request nor the
 * entities are evaluated once here (e.g. `datetime("2026-01-01")`); one that fails keeps failing at
 * evaluation time, so short-circuiting still decides whether the error is reached.
 */
export function compileExpr(e: Expr): Evaluator {
  const f = compileNode(e);
  if (e.kind !== 'lit' && isStoreFree(e)) {
    try {
      const v = f(EMPTY_ENV);
      return () => v;
    } catch {
      return f;
    }
  }
  return f;
}

function compileNode(e: Expr): Evaluator {
  switch (e.kind) {
    case 'lit': {
      const v = e.value;
      return () => v;
    }
    case 'var':
      return compileVar(e.name);
    case 'slot':
      throw new Error(`unlinked template slot ${e.name}`);
    case 'not': {
      const a = compileExpr(e.arg);
      return (env) => !bool(a(env));
    }
    case 'neg': {
      const a = compileExpr(e.arg);
      return (env) => negLong(long(a(env)));
    }
    case 'isEmpty': {
      const a = compileExpr(e.arg);
      return (env) => {
        const s = set(a(env));
        return Array.isArray(s) ? s.length === 0 : (s as ReadonlySet<CedarValue>).size === 0;
      };
    }
    case 'and': {
      const l = compileExpr(e.left);
      const r = compileExpr(e.right);
      return (env) => bool(l(env)) && bool(r(env));
    }
    case 'or': {
      const l = compileExpr(e.left);
      const r = compileExpr(e.right);
      return (env) => bool(l(env)) || bool(r(env));
    }
    case 'binary':
      return compileBinary(e.op, e.left, e.right);
    case 'attr': {
      const attr = e.attr;
      if (e.left.kind === 'var') {
        const v = e.left.name;
        // `context` is always a record and the others always entities: skip the type dispatch.
        if (v === 'context') {
          return (env) => {
            const c = env.context;
            if (!Object.hasOwn(c, attr)) throw evaluationError(`record does not have the attribute \`${attr}\``);
            return c[attr] as CedarValue;
          };
        }
        return (env) => entityAttr(env, v === 'principal' ? env.principal : v === 'action' ? env.action : env.resource, attr);
      }
      const l = compileExpr(e.left);
      return (env) => getAttr(l(env), attr, env);
    }
    case 'has': {
      const path = e.path;
      const l = compileExpr(e.left);
      if (path.length === 1) {
        const attr = path[0] as string;
        return (env) => hasAttr(l(env), attr, env);
      }
      // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
      return (env) => {
        let v = l(env);
        for (let i = 0; i < path.length; i++) {
          const attr = path[i] as string;
          if (!hasAttr(v, attr, env)) return false;
          if (i < path.length - 1) v = getAttr(v, attr, env);
        }
        return true;
      };
    }
    case 'like': {
      const pattern = compileLikePattern(e.pattern);
      const l = compileExpr(e.left);
      return (env) => matchLike(str(l(env)), pattern);
    }
    case 'is': {
      const type = e.entityType;
      const l = compileExpr(e.left);
      if (e.in === undefined) return (env) => entity(l(env)).type === type;
      const r = compileExpr(e.in);
      return (env) => {
        const v = entity(l(env));
        return v.type === type && inOp(v, r(env), env);
      };
    }
    case 'if': {
      const c = compileExpr(e.cond);
      const t = compileExpr(e.then);
      const f = compileExpr(e.else);
      return (env) => (bool(c(env)) ? t(env) : f(env));
    }
    case 'set': {
      const items = e.elements.map(compileExpr);
      return (env) => items.map((f) => f(env));
    }
    case 'record': {
      const fields = e.fields.map(([k, v]) => [k, compileExpr(v)] as const);
      return (env) => {
        const out = Object.create(null) as Record<string, CedarValue>;
        for (const [k, f] of fields) out[k] = f(env);
        return out;
      };
    }
    case 'call': {
      const fn = extensionFunctions.get(e.fn);
      if (!fn) throw new Error(`unknown extension function ${e.fn}`);
      const args = e.args.map(compileExpr);
      if (args.length !== fn.arity) {
        // Cedar parses a call with the wrong number of arguments and fails when evaluating it.
        const message = `wrong number of arguments to \`${e.fn}\`: expected ${fn.arity}, got ${args.length}`;
        return (env) => {
          for (const a of args) a(env);
          throw evaluationError(message);
        };
      }
      if (fn.arity === 1 && fn.unary) {
        const a = args[0] as Evaluator;
        const u = fn.unary;
        return (env) => u(a(env));
      }
      const a = args[0] as Evaluator;
      const b = args[1] as Evaluator;
      const bin = fn.binary as (x: CedarValue, y: CedarValue) => CedarValue;
      return (env) => bin(a(env), b(env));
    }
  }
}

function compileVar(name: Var): Evaluator {
  switch (name) {
    case 'principal':
      return (env) => env.principal;
    case 'action':
      return (env) => env.action;
    case 'resource':
      return (env) => env.resource;
    case 'context':
      return (env) => env.context;
  }
}

function compileBinary(op: BinaryOp, left: Expr, right: Expr): Evaluator {
  const l = compileExpr(left);
  const r = compileExpr(right);
  switch (op) {
    case '==':
    case '!=': {
      const negate = op === '!=';
      // Fast paths for a literal string, bool or entity on either side: no other representation is equal.
      const lit = right.kind === 'lit' ? right.value : left.kind === 'lit' ? left.value : undefined;
      const other = right.kind === 'lit' ? l : r;
      if (typeof lit === 'string' || typeof lit === 'boolean') {
        // Both sides are still evaluated (the literal side is free), so errors are preserved.
        return negate ? (env) => other(env) !== lit : (env) => other(env) === lit;
      }
      if (lit instanceof EntityUid) {
        const { type, id } = lit;
        return (env) => {
          const v = other(env);
          return (v instanceof EntityUid && v.type === type && v.id === id) !== negate;
        };
      }
      return negate ? (env) => !valueEquals(l(env), r(env)) : (env) => valueEquals(l(env), r(env));
    }
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compileComparison(op, l, r, right);
    case '+':
    case '-':
    case '*':
    case 'in':
    case 'contains':
    case 'containsAll':
    case 'containsAny':
    case 'getTag':
    case 'hasTag':
      return compileOther(op, l, r, right);
  }
}

/**
 * `<`, `<=`, `>`, `>=`. With a literal on the right (the usual `context.now < datetime("…")`,
 * `context.riskScore >= 80`), the common same-type case compares numbers directly.
 */
function compileComparison(op: '<' | '<=' | '>' | '>=', l: Evaluator, r: Evaluator, right: Expr): Evaluator {
  const c = right.kind === 'lit' ? right.value : undefined;
  const cms = c instanceof Datetime || c instanceof Duration ? c.ms : typeof c === 'number' ? c : undefined;
  if (c !== undefined && typeof cms === 'number') {
    const Kind = c instanceof Datetime ? Datetime : c instanceof Duration ? Duration : undefined;
    const generic = (a: CedarValue): boolean =>
      op === '<' ? less(a, c, false) : op === '<=' ? less(a, c, true) : op === '>' ? less(c, a, false) : less(c, a, true);
    if (Kind === undefined) {
      switch (op) {
        case '<':
          return (env) => {
            const a = l(env);
            return typeof a === 'number' ? a < cms : generic(a);
          };
        case '<=':
          return (env) => {
            const a = l(env);
            return typeof a === 'number' ? a <= cms : generic(a);
          };
        case '>':
          return (env) => {
            const a = l(env);
            return typeof a === 'number' ? a > cms : generic(a);
          };
        case '>=':
          return (env) => {
            const a = l(env);
            return typeof a === 'number' ? a >= cms : generic(a);
          };
      }
    }
    const msOf = (a: CedarValue): number | undefined => (a instanceof Kind && typeof a.ms === 'number' ? a.ms : undefined);
    switch (op) {
      case '<':
        return (env) => {
          const a = l(env);
          const m = msOf(a);
          return m !== undefined ? m < cms : generic(a);
        };
      case '<=':
        return (env) => {
          const a = l(env);
          const m = msOf(a);
          return m !== undefined ? m <= cms : generic(a);
        };
      case '>':
        return (env) => {
          const a = l(env);
          const m = msOf(a);
          return m !== undefined ? m > cms : generic(a);
        };
      case '>=':
        return (env) => {
          const a = l(env);
          const m = msOf(a);
          return m !== undefined ? m >= cms : generic(a);
        };
    }
  }
  switch (op) {
    case '<':
      return (env) => less(l(env), r(env), false);
    case '<=':
      return (env) => less(l(env), r(env), true);
    case '>':
      return (env) => {
        const a = l(env);
        return less(r(env), a, false);
      };
    case '>=':
      return (env) => {
        const a = l(env);
        return less(r(env), a, true);
      };
  }
}

/** Arithmetic, hierarchy, set and tag operators. */
function compileOther(op: Exclude<BinaryOp, '==' | '!=' | '<' | '<=' | '>' | '>='>, l: Evaluator, r: Evaluator, right: Expr): Evaluator {
  switch (op) {
    case '+':
      return (env) => addLong(long(l(env)), long(r(env)));
    case '-':
      return (env) => subLong(long(l(env)), long(r(env)));
    case '*':
      return (env) => mulLong(long(l(env)), long(r(env)));
    case 'in': {
      if (right.kind === 'lit' && right.value instanceof EntityUid) {
        const target = right.value;
        return (env) => env.in(entity(l(env)), target);
      }
      return (env) => inOp(l(env), r(env), env);
    }
    case 'contains':
      return (env) => {
        const s = set(l(env));
        return setContains(s, r(env));
      };
    case 'containsAll':
      return (env) => {
        const a = set(l(env));
        const b = set(r(env));
        for (const x of b) if (!setContains(a, x)) return false;
        return true;
      };
    case 'containsAny':
      return (env) => {
        const a = set(l(env));
        const b = set(r(env));
        for (const x of b) if (setContains(a, x)) return true;
        return false;
      };
    case 'getTag':
      return (env) => {
        const u = entity(l(env));
        const tag = str(r(env));
        const e = env.entity(u);
        if (!e) throw evaluationError(`entity \`${u.toString()}\` does not exist`);
        if (!e.tags || !Object.hasOwn(e.tags, tag)) throw evaluationError(`\`${u.toString()}\` does not have the tag \`${tag}\``);
        return e.tags[tag] as CedarValue;
      };
    case 'hasTag':
      return (env) => {
        const u = entity(l(env));
        const tag = str(r(env));
        const tags = env.entity(u)?.tags;
        return tags !== undefined && Object.hasOwn(tags, tag);
      };
  }
}
