import type { Expr, PolicyIr, ScopeConstraint, Var } from './Expr.js';
import { forEachChild } from './forEachChild.js';

/** What a policy can read of one request entity (principal, action or resource). */
export interface EntityInputs {
  /** Attribute paths read, e.g. `kind`, `owner.team`; `*` = any attribute (the entity value escapes). */
  readonly attrs: readonly string[];
  /** Tag keys read with `getTag`/`hasTag`; `*` = a key computed at run time. */
  readonly tags: readonly string[];
  /** Whether its ancestors in the entity hierarchy are read (`in`). */
  readonly hierarchy: boolean;
  /** Whether the entity reference itself is read (`==`, `is`, scope constraints). */
  readonly identity: boolean;
}

/** The inputs a policy can read: what must change before its decision can. */
export interface PolicyInputs {
  readonly principal: EntityInputs;
  readonly action: EntityInputs;
  readonly resource: EntityInputs;
  /** Context paths read, e.g. `now`, `session.active`, `approvals`; `''` = the whole context record. */
  readonly context: readonly string[];
  /** Whether the decision can depend on `context.now` (the evaluation instant). */
  readonly readsNow: boolean;
  /**
   * Whether entities other than the request's three are read: attributes, tags or ancestors of
   * entity literals or of entities reached through attributes.
   */
  readonly otherEntities: boolean;
  /** True when the policy could not be analysed (a fallback without a compiler tree): assume it reads anything. */
  readonly opaque: boolean;
}

class EntityAcc {
  readonly attrs = new Set<string>();
  readonly tags = new Set<string>();
  hierarchy = false;
  identity = false;
  escape(): void {
    this.attrs.add('*');
    this.tags.add('*');
    this.hierarchy = true;
    this.identity = true;
  }
  freeze(): EntityInputs {
    return { attrs: [...this.attrs].sort(), tags: [...this.tags].sort(), hierarchy: this.hierarchy, identity: this.identity };
  }
}

type EntityVar = Exclude<Var, 'context'>;

/** A chain of attribute accesses rooted at a request variable, e.g. `context.session.active`. */
function varPath(e: Expr): { root: Var; path: string[] } | undefined {
  if (e.kind === 'var') return { root: e.name, path: [] };
  if (e.kind === 'attr') {
    const inner = varPath(e.left);
    return inner && { root: inner.root, path: [...inner.path, e.attr] };
  }
  return undefined;
}

class Analyzer {
  readonly ents: Record<EntityVar, EntityAcc> = { principal: new EntityAcc(), action: new EntityAcc(), resource: new EntityAcc() };
  readonly context = new Set<string>();
  otherEntities = false;

  scope(which: EntityVar, c: ScopeConstraint): void {
    if (c.op === 'all') return;
    this.ents[which].identity = true;
    if (c.op === 'in' || (c.op === 'is' && c.in !== undefined)) this.ents[which].hierarchy = true;
  }

  /** Records a read of `path` under `root`; the value at the end is used as a value (`escapes`). */
  private readPath(root: Var, path: readonly string[]): void {
    if (root === 'context') {
      this.context.add(path.join('.'));
      return;
    }
    if (path.length === 0) this.ents[root].escape();
    else this.ents[root].attrs.add(path.join('.'));
  }

  /** An expression whose value flows on. */
  value(e: Expr): void {
    const vp = varPath(e);
    if (vp) {
      this.readPath(vp.root, vp.path);
      return;
    }
    if (e.kind === 'attr') {
      // Attribute of a computed or literal entity/record.
      this.otherEntities = true;
      this.value(e.left);
    } else if (e.kind === 'has') {
      const hp = varPath(e.left);
      if (hp) {
        // `principal has a.b` reads whether a and a.b exist: the path covers both.
        if (hp.root === 'context') this.context.add([...hp.path, ...e.path].join('.'));
        else this.ents[hp.root].attrs.add([...hp.path, ...e.path].join('.'));
        return;
      }
      this.otherEntities = true;
      this.value(e.left);
    } else if (e.kind === 'binary') {
      this.binary(e);
    } else if (e.kind === 'is') {
      this.identityOf(e.left);
      if (e.in) {
        this.identityOf(e.in);
        this.hierarchyOf(e.left);
      }
    } else {
      forEachChild(e, (c) => this.value(c));
    }
  }

  /** The operand is only compared as an entity reference (its attributes are not read). */
  private identityOf(e: Expr): void {
    if (e.kind === 'var' && e.name !== 'context') this.ents[e.name].identity = true;
    else this.value(e);
  }

  private hierarchyOf(e: Expr): void {
    if (e.kind === 'var' && e.name !== 'context') this.ents[e.name].hierarchy = true;
    else this.otherEntities = true;
  }

  private binary(e: Expr & { kind: 'binary' }): void {
    if (e.op === '==' || e.op === '!=') {
      this.identityOf(e.left);
      this.identityOf(e.right);
    } else if (e.op === 'in') {
      this.identityOf(e.left);
      this.hierarchyOf(e.left);
      this.identityOf(e.right);
    } else if (e.op === 'getTag' || e.op === 'hasTag') {
      const key = e.right.kind === 'lit' && typeof e.right.value === 'string' ? e.right.value : '*';
      if (e.left.kind === 'var' && e.left.name !== 'context') {
        this.ents[e.left.name].tags.add(key);
      } else {
        this.otherEntities = true;
        this.value(e.left);
      }
      this.value(e.right);
    } else {
      this.value(e.left);
      this.value(e.right);
    }
  }

  result(opaque: boolean): PolicyInputs {
    const context = [...this.context].sort();
    return {
      principal: this.ents.principal.freeze(),
      action: this.ents.action.freeze(),
      resource: this.ents.resource.freeze(),
      context,
      readsNow: context.some((p) => p === '' || p === 'now' || p.startsWith('now.')),
      otherEntities: this.otherEntities,
      opaque,
    };
  }
}

/** The inputs one policy can read, from its compiler tree (after linking). */
export function analyzePolicy(ir: PolicyIr): PolicyInputs {
  const a = new Analyzer();
  a.scope('principal', ir.principal);
  a.scope('resource', ir.resource);
  if (ir.action.op !== 'all') {
    a.ents.action.identity = true;
    if (ir.action.op === 'in') a.ents.action.hierarchy = true;
  }
  for (const c of ir.conditions) a.value(c.body);
  return a.result(false);
}

const ANY: EntityInputs = { attrs: ['*'], tags: ['*'], hierarchy: true, identity: true };

/** Inputs of a policy that could not be analysed: everything. */
export const opaqueInputs: PolicyInputs = {
  principal: ANY,
  action: ANY,
  resource: ANY,
  context: [''],
  readsNow: true,
  otherEntities: true,
  opaque: true,
};

function unionEntity(xs: readonly EntityInputs[]): EntityInputs {
  return {
    attrs: [...new Set(xs.flatMap((x) => x.attrs))].sort(),
    tags: [...new Set(xs.flatMap((x) => x.tags))].sort(),
    hierarchy: xs.some((x) => x.hierarchy),
    identity: xs.some((x) => x.identity),
  };
}

/** The inputs of a whole set: the union of its policies'. */
export function unionInputs(all: readonly PolicyInputs[]): PolicyInputs {
  return {
    principal: unionEntity(all.map((x) => x.principal)),
    action: unionEntity(all.map((x) => x.action)),
    resource: unionEntity(all.map((x) => x.resource)),
    context: [...new Set(all.flatMap((x) => x.context))].sort(),
    readsNow: all.some((x) => x.readsNow),
    otherEntities: all.some((x) => x.otherEntities),
    opaque: all.some((x) => x.opaque),
  };
}

/**
 * Whether a policy with these inputs can read the context path `path` (e.g. `session` or
 * `session.active`): true when one is a prefix of the other.
 */
export function readsContextPath(inputs: PolicyInputs, path: string): boolean {
  return inputs.context.some((p) => p === '' || p === path || path.startsWith(`${p}.`) || p.startsWith(`${path}.`));
}
