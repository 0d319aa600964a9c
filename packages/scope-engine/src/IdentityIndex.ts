import type { IdentityState } from './IdentityState.js';
import { indexTerms } from './selectors.js';

/**
 * Secondary indexes over the identities of a partition, so that selector orders, policy changes,
 * release windows and leaked secrets find their identities without scanning the fleet.
 * Terms: `kind=…`, `ns=…`, `owner=…`, `label:k=v`, `role=…` (selectors); `action=…` (policies);
 * `permns=…` (namespaces of provisioned resources: release windows, incidents); `secret=…` (leases).
 *
 * Only the term → identities sets are kept: an identity's previous terms are recomputed from its
 * previous state when it changes (memory per identity is what dominates at a million identities),
 * and most changes (sessions, telemetry) touch nothing indexed, which is checked by reference.
 */
export class IdentityIndex {
  private readonly byTerm = new Map<string, Set<string>>();

  /** `all` lists every identity (for a lookup without terms). */
  constructor(private readonly all: () => Iterable<string> = () => []) {}

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

  /** Whether two states of an identity have the same index terms, judged by reference (immutable records). */
  static sameTerms(a: IdentityState, b: IdentityState): boolean {
    return a.kind === b.kind && a.namespace === b.namespace && a.owner === b.owner && a.labels === b.labels && a.grants === b.grants && a.jit === b.jit && a.leases === b.leases;
  }

  /** Re-indexes an identity after a change from `previous` (the state indexed before, if any). */
  update(identity: IdentityState, previous?: IdentityState): void {
    if (previous && IdentityIndex.sameTerms(previous, identity)) return;
    const next = IdentityIndex.termsFor(identity);
    const prev = previous ? IdentityIndex.termsFor(previous) : [];
    for (const t of prev) if (!next.includes(t)) this.removeTerm(t, identity.id);
    for (const t of next) {
      let set = this.byTerm.get(t);
      if (!set) this.byTerm.set(t, (set = new Set()));
      set.add(identity.id);
    }
  }

  /** Forgets an identity indexed as `state`. */
  remove(state: IdentityState): void {
    for (const t of IdentityIndex.termsFor(state)) this.removeTerm(t, state.id);
  }

  /** Identities carrying every term (an intersection, starting from the rarest term). */
  lookup(terms: readonly string[]): string[] {
    if (terms.length === 0) return [...this.all()];
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

  /** Number of distinct terms. */
  get terms(): number {
    return this.byTerm.size;
  }

  private removeTerm(term: string, id: string): void {
    const set = this.byTerm.get(term);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) this.byTerm.delete(term);
  }
}
