import type { CedarValue } from './CedarValue.js';
import { EntityUid } from './EntityUid.js';
import type { ActionConstraint, BinaryOp, Condition, Expr, LikeElem, PolicyIr, ScopeConstraint, ScopeEntity, SlotId, Var } from './Expr.js';
import { callExtensionFunction, extensionFunctions } from './extensionFunctions.js';
import { normalizeLong } from './Long.js';

/** A construct the compiler does not handle; the policy then runs on cedar-wasm. Never escapes this package. */
export class UnsupportedConstruct extends Error {
  override readonly name = 'UnsupportedConstruct';
}

const BINARY: readonly BinaryOp[] = ['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', 'in', 'contains', 'containsAll', 'containsAny', 'getTag', 'hasTag'];
const VARS: readonly string[] = ['principal', 'action', 'resource', 'context'];

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(what: string): never {
  throw new UnsupportedConstruct(what);
}

/**
 * Converts cedar-wasm's JSON policy (EST) to the compiler's tree. `exactIntegers` maps the
 * placeholder literals substituted into the text (see `parsePolicies`) back to the exact magnitudes
 * of integer literals beyond 2^53. Throws `UnsupportedConstruct` for anything not understood.
 */
export class EstConverter {
  readonly #exact: ReadonlyMap<number, bigint>;
  readonly usedPlaceholders = new Set<number>();

  constructor(exactIntegers: ReadonlyMap<number, bigint> = new Map()) {
    this.#exact = exactIntegers;
  }

  policy(est: Json): PolicyIr {
    if (!isObject(est)) fail('policy is not an object');
    const effect = est.effect;
    if (effect !== 'permit' && effect !== 'forbid') fail(`effect ${String(effect)}`);
    const conditions: Condition[] = [];
    for (const c of (est.conditions as Json[] | undefined) ?? []) {
      if (!isObject(c) || (c.kind !== 'when' && c.kind !== 'unless')) fail('condition');
      conditions.push({ kind: c.kind, body: this.expr(c.body) });
    }
    const annotations: Record<string, string> = {};
    if (isObject(est.annotations)) for (const [k, v] of Object.entries(est.annotations)) annotations[k] = typeof v === 'string' ? v : '';
    return {
      effect,
      principal: this.scope(est.principal, 'principal'),
      action: this.actionScope(est.action),
      resource: this.scope(est.resource, 'resource'),
      conditions,
      annotations,
    };
  }

  private scopeEntity(c: JsonObject, slotAllowed: SlotId): ScopeEntity {
    if (c.slot !== undefined) {
      if (c.slot !== slotAllowed) fail(`slot ${JSON.stringify(c.slot)}`);
      return slotAllowed;
    }
    return this.uid(c.entity);
  }

  private scope(c: Json, which: 'principal' | 'resource'): ScopeConstraint {
    if (!isObject(c)) fail(`${which} constraint`);
    const slot: SlotId = which === 'principal' ? '?principal' : '?resource';
    switch (c.op) {
      case 'All':
        return { op: 'all' };
      case '==':
        return { op: '==', entity: this.scopeEntity(c, slot) };
      case 'in':
        return { op: 'in', entity: this.scopeEntity(c, slot) };
      case 'is': {
        if (typeof c.entity_type !== 'string') fail('is constraint');
        if (c.in === undefined) return { op: 'is', entityType: c.entity_type };
        if (!isObject(c.in)) fail('is..in constraint');
        return { op: 'is', entityType: c.entity_type, in: this.scopeEntity(c.in, slot) };
      }
      default:
        return fail(`${which} constraint op ${String(c.op)}`);
    }
  }

  private actionScope(c: Json): ActionConstraint {
    if (!isObject(c)) fail('action constraint');
    switch (c.op) {
      case 'All':
        return { op: 'all' };
      case '==':
        return { op: '==', entity: this.uid(c.entity) };
      case 'in':
        if (Array.isArray(c.entities)) return { op: 'in', entities: c.entities.map((e) => this.uid(e)) };
        return { op: 'in', entities: [this.uid(c.entity)] };
      default:
        return fail(`action constraint op ${String(c.op)}`);
    }
  }

  uid(j: Json): EntityUid {
    const inner = isObject(j) && isObject(j.__entity) ? j.__entity : j;
    if (!isObject(inner) || typeof inner.type !== 'string' || typeof inner.id !== 'string') fail('entity reference');
    return new EntityUid(inner.type, inner.id);
  }

  /** A constant from the JSON value form (`{ "Value": … }`). */
  value(j: Json): CedarValue {
    if (typeof j === 'boolean' || typeof j === 'string') return j;
    if (typeof j === 'number') {
      const exact = this.#exact.get(Math.abs(j));
      if (exact !== undefined) {
        this.usedPlaceholders.add(Math.abs(j));
        return normalizeLong(j < 0 ? -exact : exact) ?? fail('integer literal outside 64 bits');
      }
      if (!Number.isSafeInteger(j)) fail('integer literal beyond 2^53 that could not be recovered exactly');
      return j === 0 ? 0 : j;
    }
    if (Array.isArray(j)) return j.map((e) => this.value(e));
    if (!isObject(j)) return fail(`value of type ${typeof j}`);
    if (j.__entity !== undefined) return this.uid(j);
    if (isObject(j.__extn)) {
      const { fn, arg, args } = j.__extn;
      if (typeof fn !== 'string') fail('__extn');
      try {
        return callExtensionFunction(fn, (Array.isArray(args) ? args : [arg]).map((a) => this.value(a)));
      } catch {
        return fail(`extension value ${fn}`);
      }
    }
    const rec = Object.create(null) as Record<string, CedarValue>;
    for (const [k, v] of Object.entries(j)) rec[k] = this.value(v);
    return rec;
  }

  expr(j: Json): Expr {
    if (!isObject(j)) fail('expression');
    const keys = Object.keys(j);
    if (keys.length !== 1) fail(`expression with keys ${keys.join(',')}`);
    const key = keys[0] as string;
    const body = j[key];
    const lr = (): { left: Expr; right: Expr } => {
      if (!isObject(body)) fail(key);
      return { left: this.expr(body.left), right: this.expr(body.right) };
    };
    const arg = (): Expr => {
      if (!isObject(body)) fail(key);
      return this.expr(body.arg);
    };
    switch (key) {
      case 'Value':
        return { kind: 'lit', value: this.value(body) };
      case 'Var':
        if (typeof body !== 'string' || !VARS.includes(body)) fail(`variable ${String(body)}`);
        return { kind: 'var', name: body as Var };
      case 'Slot':
        if (body !== '?principal' && body !== '?resource') fail(`slot ${String(body)}`);
        return { kind: 'slot', name: body };
      case '!':
        return { kind: 'not', arg: arg() };
      case 'neg':
        return { kind: 'neg', arg: arg() };
      case 'isEmpty':
        return { kind: 'isEmpty', arg: arg() };
      case '&&':
        return { kind: 'and', ...lr() };
      case '||':
        return { kind: 'or', ...lr() };
      case '.': {
        if (!isObject(body) || typeof body.attr !== 'string') fail('attribute access');
        return { kind: 'attr', left: this.expr(body.left), attr: body.attr };
      }
      case 'has': {
        if (!isObject(body)) fail('has');
        const path = Array.isArray(body.attr) ? body.attr : [body.attr];
        if (path.length === 0 || !path.every((p): p is string => typeof p === 'string')) fail('has path');
        return { kind: 'has', left: this.expr(body.left), path };
      }
      case 'like': {
        if (!isObject(body) || !Array.isArray(body.pattern)) fail('like');
        const pattern: LikeElem[] = body.pattern.map((p: Json) => {
          if (p === 'Wildcard') return { wildcard: true } as const;
          if (isObject(p) && typeof p.Literal === 'string') return { literal: p.Literal };
          return fail('like pattern element');
        });
        return { kind: 'like', left: this.expr(body.left), pattern };
      }
      case 'is': {
        if (!isObject(body) || typeof body.entity_type !== 'string') fail('is');
        const left = this.expr(body.left);
        return body.in === undefined ? { kind: 'is', left, entityType: body.entity_type } : { kind: 'is', left, entityType: body.entity_type, in: this.expr(body.in) };
      }
      case 'if-then-else': {
        if (!isObject(body)) fail('if-then-else');
        return { kind: 'if', cond: this.expr(body.if), then: this.expr(body.then), else: this.expr(body.else) };
      }
      case 'Set':
        if (!Array.isArray(body)) fail('Set');
        return { kind: 'set', elements: body.map((e) => this.expr(e)) };
      case 'Record': {
        if (!isObject(body)) fail('Record');
        return { kind: 'record', fields: Object.entries(body).map(([k, v]) => [k, this.expr(v)] as const) };
      }
      default: {
        if ((BINARY as readonly string[]).includes(key)) return { kind: 'binary', op: key as BinaryOp, ...lr() };
        const fn = extensionFunctions.get(key);
        if (!fn || !Array.isArray(body)) return fail(`expression \`${key}\``);
        return { kind: 'call', fn: key, args: body.map((a) => this.expr(a)) };
      }
    }
  }
}
