import type { CedarValue } from './CedarValue.js';
import { compileExpr, type EvalEnv, type Evaluator } from './compileExpr.js';
import type { EntityUid } from './EntityUid.js';
import type { ActionConstraint, PolicyIr, ScopeConstraint, ScopeEntity } from './Expr.js';
import { typeError } from './extensionFunctions.js';

/** Whether a policy is satisfied by a request. Throws on a Cedar evaluation error. */
export type PolicyTest = (env: EvalEnv) => boolean;

type ScopeTest = ((env: EvalEnv) => boolean) | undefined;

function literal(e: ScopeEntity): EntityUid {
  if (typeof e === 'string') throw new Error(`unlinked template slot ${e}`);
  return e;
}

function scopeTest(c: ScopeConstraint, pick: (env: EvalEnv) => EntityUid): ScopeTest {
  switch (c.op) {
    case 'all':
      return undefined;
    case '==': {
      const { type, id } = literal(c.entity);
      return (env) => {
        const v = pick(env);
        return v.type === type && v.id === id;
      };
    }
    case 'in': {
      const target = literal(c.entity);
      return (env) => env.in(pick(env), target);
    }
    case 'is': {
      const type = c.entityType;
      if (c.in === undefined) return (env) => pick(env).type === type;
      const target = literal(c.in);
      return (env) => {
        const v = pick(env);
        return v.type === type && env.in(v, target);
      };
    }
  }
}

function actionTest(c: ActionConstraint): ScopeTest {
  switch (c.op) {
    case 'all':
      return undefined;
    case '==': {
      const { type, id } = c.entity;
      return (env) => env.action.type === type && env.action.id === id;
    }
    case 'in': {
      const targets = c.entities;
      if (targets.length === 1) {
        const t = targets[0] as EntityUid;
        return (env) => env.in(env.action, t);
      }
      return (env) => {
        for (const t of targets) if (env.in(env.action, t)) return true;
        return false;
      };
    }
  }
}

function conditionTest(body: Evaluator, when: boolean): (env: EvalEnv) => boolean {
  return (env) => {
    const v: CedarValue = body(env);
    if (typeof v !== 'boolean') typeError('bool', v);
    return v === when;
  };
}

/**
 * Compiles a linked policy: scope first (it cannot fail, so the cheap, selective action test goes
 * first), then `when`/`unless` bodies in order, short-circuiting like Cedar's `&&`.
 */
export function compilePolicy(ir: PolicyIr): PolicyTest {
  const scope = [
    actionTest(ir.action),
    scopeTest(ir.principal, (env) => env.principal),
    scopeTest(ir.resource, (env) => env.resource),
  ].filter((t): t is (env: EvalEnv) => boolean => t !== undefined);
  const conditions = ir.conditions.map((c) => conditionTest(compileExpr(c.body), c.kind === 'when'));
  const tests = [...scope, ...conditions];
  switch (tests.length) {
    case 0:
      return () => true;
    case 1:
      return tests[0] as PolicyTest;
    case 2: {
      const [a, b] = tests as [PolicyTest, PolicyTest];
      return (env) => a(env) && b(env);
    }
    case 3: {
      const [a, b, c] = tests as [PolicyTest, PolicyTest, PolicyTest];
      return (env) => a(env) && b(env) && c(env);
    }
    default:
      return (env) => {
        for (const t of tests) if (!t(env)) return false;
        return true;
      };
  }
}
