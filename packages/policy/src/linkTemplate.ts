import type { EntityUid } from './EntityUid.js';
import type { Expr, PolicyIr, ScopeConstraint, SlotId } from './Expr.js';
import { forEachChild } from './forEachChild.js';
import { PolicyError, PolicyErrorCode } from './PolicyError.js';

/** Values for a template's slots. */
export type SlotValues = Partial<Record<SlotId, EntityUid>>;

/** The slots a template uses, in scope or in its conditions. */
export function templateSlots(ir: PolicyIr): Set<SlotId> {
  const out = new Set<SlotId>();
  const scope = (c: ScopeConstraint): void => {
    if (c.op === '==' || c.op === 'in') {
      if (typeof c.entity === 'string') out.add(c.entity);
    } else if (c.op === 'is' && typeof c.in === 'string') {
      out.add(c.in);
    }
  };
  scope(ir.principal);
  scope(ir.resource);
  const walk = (e: Expr): void => {
    if (e.kind === 'slot') out.add(e.name);
    forEachChild(e, walk);
  };
  for (const c of ir.conditions) walk(c.body);
  return out;
}

function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  switch (e.kind) {
    case 'lit':
    case 'var':
    case 'slot':
      return f(e);
    case 'not':
    case 'neg':
    case 'isEmpty':
      return { ...e, arg: mapExpr(e.arg, f) };
    case 'and':
    case 'or':
      return { ...e, left: mapExpr(e.left, f), right: mapExpr(e.right, f) };
    case 'binary':
      return { ...e, left: mapExpr(e.left, f), right: mapExpr(e.right, f) };
    case 'attr':
    case 'has':
    case 'like':
      return { ...e, left: mapExpr(e.left, f) };
    case 'is':
      return e.in ? { ...e, left: mapExpr(e.left, f), in: mapExpr(e.in, f) } : { ...e, left: mapExpr(e.left, f) };
    case 'if':
      return { ...e, cond: mapExpr(e.cond, f), then: mapExpr(e.then, f), else: mapExpr(e.else, f) };
    case 'set':
      return { ...e, elements: e.elements.map((x) => mapExpr(x, f)) };
    case 'record':
      return { ...e, fields: e.fields.map(([k, v]) => [k, mapExpr(v, f)] as const) };
    case 'call':
      return { ...e, args: e.args.map((x) => mapExpr(x, f)) };
  }
}

/** Fills a template's slots; throws `POLICY_LINK` when a slot is missing or not in the template. */
export function linkTemplate(ir: PolicyIr, values: SlotValues, ids: { templateId: string; linkId: string }): PolicyIr {
  const slots = templateSlots(ir);
  for (const s of slots) {
    if (!values[s]) throw new PolicyError(PolicyErrorCode.link, `link \`${ids.linkId}\` gives no value for slot ${s} of template \`${ids.templateId}\``, { policyId: ids.linkId });
  }
  for (const s of Object.keys(values)) {
    if (!slots.has(s as SlotId)) throw new PolicyError(PolicyErrorCode.link, `link \`${ids.linkId}\` gives a value for ${s}, which template \`${ids.templateId}\` does not have`, { policyId: ids.linkId });
  }
  const fill = (e: EntityUid | SlotId): EntityUid => (typeof e === 'string' ? (values[e] as EntityUid) : e);
  const scope = (c: ScopeConstraint): ScopeConstraint => {
    if (c.op === '==' || c.op === 'in') return { op: c.op, entity: fill(c.entity) };
    if (c.op === 'is' && c.in !== undefined) return { op: 'is', entityType: c.entityType, in: fill(c.in) };
    return c;
  };
  return {
    ...ir,
    principal: scope(ir.principal),
    resource: scope(ir.resource),
    conditions: ir.conditions.map((c) => ({
      kind: c.kind,
      body: mapExpr(c.body, (x) => (x.kind === 'slot' ? { kind: 'lit', value: values[x.name] as EntityUid } : x)),
    })),
  };
}
