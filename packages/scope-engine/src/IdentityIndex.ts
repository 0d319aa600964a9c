import type { IdentityState } from './IdentityState.js';
import { indexTerms } from './selectors.js';

/**
 * Secondary indexes over the identities of a partition, so that selector orders, policy changes,
 * release windows and leaked secrets find their identities without scanning the fleet.
 * Terms: `kind=…`, `ns=…`, `owner=…`, `label:k=v`, `role=…` (selectors); `action=…` (policies);
 * `permns=…` (namespaces of provisioned resources: release windows, incidents); `secret=…` (leases).
 */
export class IdentityIndex {
  private readonly byTerm = new Map<string, Set<string>>();
  private readonly termsOf = new Map<string, readonly string[]>();

  static termsFor(identity: IdentityState): string[] {
    const terms = indexTerms(identity);
    const perms = new Set<string>();
    const add = (t: string): void => {
      if (!perms.has(t)) {
        perms.add(t);
        terms.push(t);
      }
    };
    for (const g of identity.grants) for (const p of g.perms) {
      add(`action=${p.action}`);
      if (p.namespace !== undefined) add(`permns=${p.namespace}`);
    }
    for (const g of identity.jit) for (const p of g.perms) {
      add(`action=${p.action}`);
      if (p.namespace !== undefined) add(`permns=${p.namespace}`);
    }
    for (const l of identity.leases) add(`secret=${l.secretPath}`);
    return terms;
  }

  /** Re-indexes an identity after a change; cheap when its terms did not change. */
  update(identity: IdentityState): void {
    const next = IdentityIndex.termsFor(identity);
    const prev = this.termsOf.get(identity.id);
    if (prev && prev.length === next.length && prev.every((t, i) => t === next[i])) return;
    if (prev) for (const t of prev) this.removeTerm(t, identity.id);
    for (const t of next) {
      let set = this.byTerm.get(t);
      if (!set) this.byTerm.set(t, (set = new Set()));
      set.add(identity.id);
    }
    this.termsOf.set(identity.id, next);
  }

  remove(id: string): void {
    const prev = this.termsOf.get(id);
    if (!prev) return;
    for (const t of prev) this.removeTerm(t, id);
    this.termsOf.delete(id);
  }

  /** Identities carrying every term (an intersection, starting from the rarest term). */
  lookup(terms: readonly string[]): string[] {
    if (terms.length === 0) return [...this.termsOf.keys()];
    const sets = terms.map((t) => this.byTerm.get(t) ?? new Set<string>()).sort((a, b) => a.size - b.size);
    const [smallest, ...rest] = sets;
    const out: string[] = [];
    for (const id of smallest ?? []) if (rest.every((s) => s.has(id))) out.push(id);
    return out;
  }

  /** Identities carrying any of the terms (a union). */
  lookupAny(terms: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const t of terms) for (const id of this.byTerm.get(t) ?? []) out.add(id);
    return out;
  }

  get size(): number {
    return this.termsOf.size;
  }

  private removeTerm(term: string, id: string): void {
    const set = this.byTerm.get(term);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.byTerm.delete(term);
  }
}
