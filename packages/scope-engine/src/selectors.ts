import type { OrderTarget, Selector } from '@livescope/contracts';
import type { IdentityState } from './IdentityState.js';

/** Whether an identity matches a selector: equality on every attribute the selector names. */
export function selectorMatches(selector: Selector, identity: IdentityState): boolean {
  if (selector.kind !== undefined && identity.kind !== selector.kind) return false;
  if (selector.namespace !== undefined && identity.namespace !== selector.namespace) return false;
  if (selector.owner !== undefined && identity.owner !== selector.owner) return false;
  if (selector.labels) for (const [k, v] of Object.entries(selector.labels)) if (identity.labels[k] !== v) return false;
  if (selector.roles) for (const r of selector.roles) if (!identity.grants.some((g) => g.role === r)) return false;
  return true;
}

export function targetMatches(target: OrderTarget, identity: IdentityState): boolean {
  if ('identityId' in target) return target.identityId === identity.id;
  if ('selector' in target) return selectorMatches(target.selector, identity);
  return true;
}

export function orderApplies(order: { readonly target: OrderTarget }, identity: IdentityState): boolean {
  return targetMatches(order.target, identity);
}

/** Index terms of an identity, one per attribute a selector can name. */
export function indexTerms(identity: IdentityState): string[] {
  const terms = [`kind=${identity.kind}`, `ns=${identity.namespace}`, `owner=${identity.owner}`];
  for (const [k, v] of Object.entries(identity.labels)) terms.push(`label:${k}=${v}`);
  for (const g of identity.grants) terms.push(`role=${g.role}`);
  return terms;
}

/** The index terms a selector requires (all of them). */
export function selectorTerms(selector: Selector): string[] {
  const terms: string[] = [];
  if (selector.kind !== undefined) terms.push(`kind=${selector.kind}`);
  if (selector.namespace !== undefined) terms.push(`ns=${selector.namespace}`);
  if (selector.owner !== undefined) terms.push(`owner=${selector.owner}`);
  if (selector.labels) for (const [k, v] of Object.entries(selector.labels)) terms.push(`label:${k}=${v}`);
  if (selector.roles) for (const r of selector.roles) terms.push(`role=${r}`);
  return terms;
}
