import type { Access } from '@livescope/contracts';
import { accessGroupId, EntityUid, LivescopeTypes, type CompiledPolicySet, type PolicyInfo } from '@livescope/policy';
import type { EngineConfig } from './EngineConfig.js';
import { answerAt, boundSessionsAt, candidatesAt, computeScope, contextAt, ordersFor, principalView, type Candidate, type Evaluator } from './computeScope.js';
import type { Globals } from './Globals.js';
import type { IdentityState, Perm, ScopeEntry } from './IdentityState.js';
import type { ScopePolicy } from './ScopePolicy.js';

/**
 * What publishing a policy set would do to the current scope of each identity: pure, one identity
 * at a time, so the caller streams the fleet from the state of record and never holds it whole.
 *
 * For an identity, the scope before is its scope at `t` under the policy set in force and the
 * scope after is its scope at `t` under the candidate set: what the engine's recompute on
 * publication emits as `added` and `removed`. `identityImpact` computes both with `computeScope`
 * (the workers' function); the accumulator, which must scan a fleet in seconds, computes the same
 * difference from the decisions at `t` alone (membership of the scope at `t`, and the sessions a
 * permission is bound to, depend on nothing else; `validUntil` is not part of a gain or loss), and
 * asks for a decision only where a policy that differs between the sets can apply: Cedar ignores a
 * policy whose scope (principal, action) does not match the request, so a permission no changed
 * policy's scope matches keeps its decision. A unit test holds the two ways equal on random edits.
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


// --- the fast path: decisions at t, only where a changed policy can apply --------------------------

/** Whether a policy's scope can match a request of this identity for this permission (conservative: true when unsure). */
type ScopeMatcher = (identity: IdentityState, roles: ReadonlySet<string>, perm: Perm) => boolean;

const ANY: ScopeMatcher = () => true;

function principalMatcher(c: NonNullable<PolicyInfo['scope']>['principal']): (identity: IdentityState, roles: ReadonlySet<string>) => boolean {
  const entityTest = (e: unknown, op: '==' | 'in'): ((identity: IdentityState, roles: ReadonlySet<string>) => boolean) => {
    if (!(e instanceof EntityUid)) return () => true;
    if (e.type === LivescopeTypes.identity) return (identity) => identity.id === e.id;
    if (e.type === LivescopeTypes.role) return op === 'in' ? (_, roles) => roles.has(e.id) : () => false;
    return () => true;
  };
  switch (c.op) {
    case 'all':
      return () => true;
    case '==':
      return entityTest(c.entity, '==');
    case 'in':
      return entityTest(c.entity, 'in');
    case 'is':
      if (c.entityType !== LivescopeTypes.identity) return () => false;
      return c.in === undefined ? () => true : entityTest(c.in, 'in');
    default:
      return () => true;
  }
}

function actionMatcher(c: NonNullable<PolicyInfo['scope']>['action']): (perm: Perm) => boolean {
  const ids = c.op === '==' ? [c.entity] : c.op === 'in' ? c.entities : undefined;
  if (ids === undefined) return () => true;
  const names = new Set(ids.map((e) => e.id));
  return (perm) => names.has(perm.action) || names.has(accessGroupId(perm.access));
}

function matcherOf(p: PolicyInfo): ScopeMatcher {
  if (!p.scope) return ANY;
  const principal = principalMatcher(p.scope.principal);
  const action = actionMatcher(p.scope.action);
  return (identity, roles, perm) => action(perm) && principal(identity, roles);
}

/** Comments and layout do not decide: two texts equal after dropping them are the same policy. */
const canonical = (text: string): string => text.replace(/\/\/[^\n]*/g, '').replace(/\s+/g, ' ').trim();

const compiledOf = (p: ScopePolicy): CompiledPolicySet | undefined => (p as { compiled?: CompiledPolicySet }).compiled;

/**
 * The scopes of the policies that differ between two sets (added, removed or changed), as one
 * matcher; ANY when a set is not a compiled Cedar set (the built-in default, a test policy).
 */
export function changedPolicyMatcher(before: ScopePolicy, after: ScopePolicy): ScopeMatcher | 'none' {
  const a = compiledOf(before);
  const b = compiledOf(after);
  if (!a || !b) return ANY;
  const was = new Map(a.policies.map((p) => [p.id, p]));
  const now = new Map(b.policies.map((p) => [p.id, p]));
  const changed: PolicyInfo[] = [];
  for (const [id, p] of now) {
    const q = was.get(id);
    if (!q || q.effect !== p.effect || canonical(q.text) !== canonical(p.text)) changed.push(p);
    if (q && (q.effect !== p.effect || canonical(q.text) !== canonical(p.text))) changed.push(q);
  }
  for (const [id, q] of was) if (!now.has(id)) changed.push(q);
  if (changed.length === 0) return 'none';
  const matchers = changed.map(matcherOf);
  if (matchers.includes(ANY)) return ANY;
  return (identity, roles, perm) => matchers.some((m) => m(identity, roles, perm));
}

interface View {
  readonly sessionId: string | undefined;
  readonly candidates: Map<string, Candidate>;
  readonly context: ReturnType<typeof contextAt>;
}

/**
 * The identity's change: its scope of record (the scope under the set in force; the engine keeps it
 * current — every event and timer recomputes it — and its change on publication is relative to it)
 * against the decisions of `after` at `t`, evaluated only for the permissions `matcher` says a
 * changed policy can apply to (the others keep their decision, so their entry).
 */
export function fastIdentityImpact(identity: IdentityState, globals: Globals, after: ScopePolicy, t: number, matcher: ScopeMatcher | 'none'): IdentityImpact | undefined {
  if (matcher === 'none' || identity.status !== 'active' || !identity.attested) return undefined;
  const principal = principalView(identity);
  const roles = new Set(principal.roles);
  const orders = ordersFor(identity, globals);
  const views: View[] = [undefined, ...boundSessionsAt(identity, t).map((s) => s.sessionId)].map((sessionId) => ({ sessionId, candidates: candidatesAt(identity, t, sessionId), context: contextAt(identity, globals, t, sessionId) }));
  const evaluators = views.map((v): Evaluator => ({ identity, globals, policy: after, principal, orders, sessionId: v.sessionId }));
  // The scope of record is the scope under the set in force (the engine recomputes it on every event
  // and timer), and what the engine's change on publication is relative to: the before side needs
  // no decision. The after side is decided for the permissions a changed policy can apply to.
  const stored = new Map<string, ScopeEntry>();
  for (const e of identity.scope) stored.set(e.perm.key, e);
  let checked: Set<string> | undefined;
  const gained: ImpactPermission[] = [];
  const lost: ImpactPermission[] = [];
  const rebound: ImpactPermission[] = [];
  const asPermission = (perm: Perm, sessions: readonly string[] | undefined): ImpactPermission => ({ action: perm.action, resource: perm.resource, access: perm.access, ...(sessions !== undefined ? { sessions: [...sessions] } : {}) });
  for (const view of views) {
    for (const c of view.candidates.values()) {
      const perm = c.perm;
      if (checked?.has(perm.key) || !matcher(identity, roles, perm)) continue;
      (checked ??= new Set()).add(perm.key);
      // The merged entry as computeScope builds it: in scope from no session → unbound; otherwise
      // bound to the sessions (in order) from which it is in scope.
      let present = false;
      let sessions: string[] | undefined;
      for (let k = 0; k < views.length; k++) {
        const v = views[k]!;
        if (!v.candidates.has(perm.key) || !answerAt(evaluators[k]!, perm, t, v.candidates, v.context).inScope) continue;
        present = true;
        if (v.sessionId === undefined) {
          sessions = undefined;
          break;
        }
        (sessions ??= []).push(v.sessionId);
      }
      const was = stored.get(perm.key);
      if (present && !was) gained.push(asPermission(perm, sessions));
      else if (was && !present) lost.push(asPermission(perm, was.sessions));
      else if (was && present && !sameSessions(was.sessions, sessions)) rebound.push(asPermission(perm, sessions));
    }
  }
  if (gained.length === 0 && lost.length === 0 && rebound.length === 0) return undefined;
  const byKey = (x: ImpactPermission, y: ImpactPermission): number => (x.action < y.action ? -1 : x.action > y.action ? 1 : x.resource < y.resource ? -1 : x.resource > y.resource ? 1 : 0);
  gained.sort(byKey);
  lost.sort(byKey);
  rebound.sort(byKey);
  const count = identity.scope.length;
  const afterCount = count + gained.length - lost.length;
  return { identityId: identity.id, kind: identity.kind, namespace: identity.namespace, name: identity.name, before: count, after: afterCount, gained, lost, rebound, losesEverything: count > 0 && afterCount === 0 };
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
  /** Identities read from the state of record, and those where a changed policy could apply and decisions were evaluated. */
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
  private readonly matchers = new Map<ScopePolicy, Map<ScopePolicy, ScopeMatcher | 'none'>>();
  readonly limits: ImpactLimits;

  constructor(limits: Partial<ImpactLimits> = {}) {
    this.limits = { maxIdentities: limits.maxIdentities ?? 1000, maxPairs: limits.maxPairs ?? 1000, ...(limits.keep ? { keep: limits.keep } : {}) };
  }

  /** Computes (fast path) and adds one identity's impact; returns it (undefined: unchanged). */
  add(identity: IdentityState, globals: Globals, before: ScopePolicy, after: ScopePolicy, t: number): IdentityImpact | undefined {
    this.scannedCount++;
    const counts = [this.totals, group(this.namespaces, identity.namespace), group(this.kinds, identity.kind)];
    for (const c of counts) c.identities++;
    let matcher = this.matchers.get(before)?.get(after);
    if (matcher === undefined) {
      matcher = changedPolicyMatcher(before, after);
      let m = this.matchers.get(before);
      if (!m) {
        m = new Map<ScopePolicy, ScopeMatcher | 'none'>();
        this.matchers.set(before, m);
      }
      m.set(after, matcher);
    }
    if (matcher === 'none') return undefined;
    this.computedCount++;
    const impact = fastIdentityImpact(identity, globals, after, t, matcher);
    if (impact) this.record(impact, counts);
    return impact;
  }

  /** Adds an impact computed elsewhere (`identityImpact`, the reference path); `undefined` counts an unchanged identity. */
  addComputed(identity: Pick<IdentityState, 'namespace' | 'kind'>, impact: IdentityImpact | undefined): void {
    this.scannedCount++;
    this.computedCount++;
    const counts = [this.totals, group(this.namespaces, identity.namespace), group(this.kinds, identity.kind)];
    for (const c of counts) c.identities++;
    if (impact) this.record(impact, counts);
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
