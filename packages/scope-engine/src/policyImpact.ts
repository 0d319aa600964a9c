import type { Access } from '@livescope/contracts';
import type { EngineConfig } from './EngineConfig.js';
import { answerAt, boundSessionsAt, candidatesAt, computeScope, contextAt, ordersFor, principalView, type Evaluator } from './computeScope.js';
import type { Globals } from './Globals.js';
import type { IdentityState, ScopeEntry } from './IdentityState.js';
import type { ScopePolicy } from './ScopePolicy.js';

/**
 * What publishing a policy set would do to the current scope of each identity: pure, one identity
 * at a time, so the caller streams the fleet from the state of record and never holds it whole.
 *
 * For an identity, the scope before is its scope at `t` under the policy set in force and the
 * scope after is its scope at `t` under the candidate set, both from `computeScope` (the workers'
 * function): what the engine's recompute on publication emits as `added` and `removed`. A cheap
 * pass first compares the decisions of every provisioned permission at `t` — in the view from no
 * session and from each session something is bound to — and only identities where one decision
 * differs are computed in full. Membership of the scope at `t` depends on nothing else, so the pass
 * never skips a change of permissions.
 */

/** A permission gained or lost, as the scope change would list it. */
export interface ImpactPermission {
  readonly action: string;
  readonly resource: string;
  readonly access: Access;
  /** Sessions the permission is bound to after (gained) or was bound to before (lost); absent: none. */
  readonly sessions?: readonly string[];
}

export interface IdentityImpact {
  readonly identityId: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Permissions in scope before and after. */
  readonly before: number;
  readonly after: number;
  readonly gained: readonly ImpactPermission[];
  readonly lost: readonly ImpactPermission[];
  /** Permissions held before and after whose session binding changes. */
  readonly rebound: readonly ImpactPermission[];
  /** Had permissions, would have none. */
  readonly losesEverything: boolean;
}

/** The change of one identity, or undefined when its permissions and their session bindings stay the same. */
export function identityImpact(identity: IdentityState, globals: Globals, before: ScopePolicy, after: ScopePolicy, t: number, config: EngineConfig): IdentityImpact | undefined {
  if (!decisionsDiffer(identity, globals, before, after, t)) return undefined;
  const a = computeScope(identity, globals, before, t, config).entries;
  const b = computeScope(identity, globals, after, t, config).entries;
  return diffEntries(identity, a, b);
}

/** Whether a decision at `t` differs between the two sets, in any view the scope is computed from. */
export function decisionsDiffer(identity: IdentityState, globals: Globals, before: ScopePolicy, after: ScopePolicy, t: number): boolean {
  if (identity.status !== 'active' || !identity.attested) return false;
  // One principal view shared by both sets: the Cedar adapter caches its entity per view.
  const principal = principalView(identity);
  const orders = ordersFor(identity, globals);
  const views: (string | undefined)[] = [undefined, ...boundSessionsAt(identity, t).map((s) => s.sessionId)];
  for (const sessionId of views) {
    const evBefore: Evaluator = { identity, globals, policy: before, principal, orders, sessionId };
    const evAfter: Evaluator = { ...evBefore, policy: after };
    const candidates = candidatesAt(identity, t, sessionId);
    const context = contextAt(identity, globals, t, sessionId);
    for (const c of candidates.values()) {
      if (answerAt(evBefore, c.perm, t, candidates, context).inScope !== answerAt(evAfter, c.perm, t, candidates, context).inScope) return true;
    }
  }
  return false;
}

function permissionOf(e: ScopeEntry): ImpactPermission {
  return { action: e.perm.action, resource: e.perm.resource, access: e.perm.access, ...(e.sessions !== undefined ? { sessions: [...e.sessions] } : {}) };
}

const sameSessions = (x: readonly string[] | undefined, y: readonly string[] | undefined): boolean =>
  x === y || (x !== undefined && y !== undefined && x.length === y.length && x.every((s) => y.includes(s)));

/** The difference of two scopes of `identity` by permission (as scope changes list `added` and `removed`), or undefined when equal. */
export function diffEntries(identity: Pick<IdentityState, 'id' | 'kind' | 'namespace' | 'name'>, before: readonly ScopeEntry[], after: readonly ScopeEntry[]): IdentityImpact | undefined {
  const was = new Map(before.map((e) => [e.perm.key, e]));
  const now = new Map(after.map((e) => [e.perm.key, e]));
  const gained: ImpactPermission[] = [];
  const lost: ImpactPermission[] = [];
  const rebound: ImpactPermission[] = [];
  for (const [k, e] of now) {
    const w = was.get(k);
    if (!w) gained.push(permissionOf(e));
    else if (!sameSessions(w.sessions, e.sessions)) rebound.push(permissionOf(e));
  }
  for (const [k, e] of was) if (!now.has(k)) lost.push(permissionOf(e));
  if (gained.length === 0 && lost.length === 0 && rebound.length === 0) return undefined;
  return { identityId: identity.id, kind: identity.kind, namespace: identity.namespace, name: identity.name, before: before.length, after: after.length, gained, lost, rebound, losesEverything: before.length > 0 && after.length === 0 };
}

/** Counts of one group (a namespace, a kind). */
export interface ImpactCounts {
  /** Identities scanned in the group. */
  identities: number;
  /** Identities whose scope would change. */
  changed: number;
  /** Identities that would gain at least one permission, lose at least one. */
  widened: number;
  narrowed: number;
  /** Permissions gained and lost, summed over identities. */
  gained: number;
  lost: number;
  losingEverything: number;
}

/** One (action, resource) pair that changes for identities of one kind. */
export interface ImpactPair {
  readonly action: string;
  readonly resource: string;
  readonly kind: string;
  gained: number;
  lost: number;
}

export interface ImpactReport {
  /** Identities read from the state of record, and those whose decisions had to be computed in full. */
  readonly scanned: number;
  readonly computed: number;
  readonly totals: ImpactCounts;
  readonly byNamespace: readonly ({ readonly namespace: string } & ImpactCounts)[];
  readonly byKind: readonly ({ readonly kind: string } & ImpactCounts)[];
  /** The (action, resource) pairs that change, per kind of identity, most affected first (at most `maxPairs`). */
  readonly pairs: readonly ImpactPair[];
  readonly pairsTruncated: boolean;
  /** Changed identities: those losing everything first, then by permissions lost and gained (at most `maxIdentities`). */
  readonly identities: readonly IdentityImpact[];
  readonly identitiesTruncated: boolean;
}

export interface ImpactLimits {
  /** Changed identities kept in full (the counts cover them all). Default 1,000. */
  readonly maxIdentities: number;
  /** (action, resource, kind) pairs kept. Default 1,000. */
  readonly maxPairs: number;
  /** Which changed identities the list may hold (a drill-down into a namespace or kind); default all. The counts cover every identity. */
  readonly keep?: (impact: IdentityImpact) => boolean;
}

const emptyCounts = (): ImpactCounts => ({ identities: 0, changed: 0, widened: 0, narrowed: 0, gained: 0, lost: 0, losingEverything: 0 });

/** Rank of a changed identity in the report: losing everything first, then most lost, then most gained. */
function rank(a: IdentityImpact, b: IdentityImpact): number {
  if (a.losesEverything !== b.losesEverything) return a.losesEverything ? -1 : 1;
  if (a.lost.length !== b.lost.length) return b.lost.length - a.lost.length;
  if (a.gained.length !== b.gained.length) return b.gained.length - a.gained.length;
  return a.identityId < b.identityId ? -1 : a.identityId > b.identityId ? 1 : 0;
}

/**
 * Accumulates identity impacts into a bounded report: counts cover every identity, the lists are
 * capped (the most severe changes are kept). Memory is O(maxIdentities + pairs seen + groups).
 */
export class ImpactAccumulator {
  private scannedCount = 0;
  private computedCount = 0;
  private readonly totals = emptyCounts();
  private readonly namespaces = new Map<string, ImpactCounts>();
  private readonly kinds = new Map<string, ImpactCounts>();
  private readonly pairMap = new Map<string, ImpactPair>();
  private kept: IdentityImpact[] = [];
  private dropped = 0;
  readonly limits: ImpactLimits;

  constructor(limits: Partial<ImpactLimits> = {}) {
    this.limits = { maxIdentities: limits.maxIdentities ?? 1000, maxPairs: limits.maxPairs ?? 1000, ...(limits.keep ? { keep: limits.keep } : {}) };
  }

  /** Computes and adds one identity's impact; returns it (undefined: unchanged). */
  add(identity: IdentityState, globals: Globals, before: ScopePolicy, after: ScopePolicy, t: number, config: EngineConfig): IdentityImpact | undefined {
    this.scannedCount++;
    const counts = [this.totals, group(this.namespaces, identity.namespace), group(this.kinds, identity.kind)];
    for (const c of counts) c.identities++;
    if (!decisionsDiffer(identity, globals, before, after, t)) return undefined;
    this.computedCount++;
    const impact = diffEntries(identity, computeScope(identity, globals, before, t, config).entries, computeScope(identity, globals, after, t, config).entries);
    if (impact) this.record(impact, counts);
    return impact;
  }

  private record(impact: IdentityImpact, counts: ImpactCounts[]): void {
    for (const c of counts) {
      c.changed++;
      if (impact.gained.length > 0) c.widened++;
      if (impact.lost.length > 0) c.narrowed++;
      c.gained += impact.gained.length;
      c.lost += impact.lost.length;
      if (impact.losesEverything) c.losingEverything++;
    }
    const pair = (p: ImpactPermission, field: 'gained' | 'lost'): void => {
      const key = `${p.action}\u0000${p.resource}\u0000${impact.kind}`;
      let x = this.pairMap.get(key);
      if (!x) this.pairMap.set(key, (x = { action: p.action, resource: p.resource, kind: impact.kind, gained: 0, lost: 0 }));
      x[field]++;
    };
    for (const p of impact.gained) pair(p, 'gained');
    for (const p of impact.lost) pair(p, 'lost');
    if (this.limits.keep && !this.limits.keep(impact)) return;
    if (this.limits.maxIdentities === 0) {
      this.dropped++;
      return;
    }
    this.kept.push(impact);
    // Keep the list bounded: sort and cut when it doubles (amortised O(log n) per identity).
    if (this.kept.length >= 2 * this.limits.maxIdentities) this.trim();
  }

  private trim(): void {
    this.kept.sort(rank);
    if (this.kept.length > this.limits.maxIdentities) {
      this.dropped += this.kept.length - this.limits.maxIdentities;
      this.kept = this.kept.slice(0, this.limits.maxIdentities);
    }
  }

  report(): ImpactReport {
    this.trim();
    const named = <K extends string>(m: Map<string, ImpactCounts>, key: K): ({ [P in K]: string } & ImpactCounts)[] =>
      [...m.entries()]
        .map(([name, c]) => ({ [key]: name, ...c }) as { [P in K]: string } & ImpactCounts)
        .sort((a, b) => b.changed - a.changed || (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
    const pairs = [...this.pairMap.values()].sort((a, b) => b.gained + b.lost - (a.gained + a.lost) || (a.action < b.action ? -1 : a.action > b.action ? 1 : a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.kind < b.kind ? -1 : 1));
    return {
      scanned: this.scannedCount,
      computed: this.computedCount,
      totals: { ...this.totals },
      byNamespace: named(this.namespaces, 'namespace'),
      byKind: named(this.kinds, 'kind'),
      pairs: pairs.slice(0, this.limits.maxPairs),
      pairsTruncated: pairs.length > this.limits.maxPairs,
      identities: [...this.kept],
      identitiesTruncated: this.dropped > 0,
    };
  }
}

function group(m: Map<string, ImpactCounts>, key: string): ImpactCounts {
  let c = m.get(key);
  if (!c) m.set(key, (c = emptyCounts()));
  return c;
}
