import type { EngineConfig } from './EngineConfig.js';
import type { ActiveOrder, Globals } from './Globals.js';
import type { IdentityState, Perm, ScopeEntry, Session } from './IdentityState.js';
import { PolicyInput, type ContextView, type PolicyDecision, type PrincipalView, type ResourceView, type ScopePolicy } from './ScopePolicy.js';
import { orderApplies } from './selectors.js';

/** A provisioned permission with the grants that provide it at some instant. */
export interface Candidate {
  readonly perm: Perm;
  readonly grants: string[];
  readonly roles: string[];
  jitOnly: boolean;
}

export interface ScopeResult {
  readonly entries: readonly ScopeEntry[];
  /** Candidates that are not in scope and why: the orders or policies that removed them. */
  readonly excluded: ReadonlyMap<string, { readonly orderIds: readonly string[]; readonly policyIds: readonly string[] }>;
  /** Next instant the scope can change without an event; null = never. */
  readonly wakeAt: number | null;
}

export function principalView(identity: IdentityState): PrincipalView {
  return {
    id: identity.id,
    kind: identity.kind,
    name: identity.name,
    namespace: identity.namespace,
    owner: identity.owner,
    riskScore: identity.riskScore,
    status: identity.status,
    labels: identity.labels,
    roles: [...new Set(identity.grants.map((g) => g.role))],
  };
}

export function resourceView(perm: Perm): ResourceView {
  return perm;
}

const isLive = (expiresAt: number | undefined, t: number): boolean => expiresAt === undefined || expiresAt > t;

/** Whether an attested session is live at `t` (observed sessions never count). */
export function sessionActiveAt(identity: IdentityState, sessionId: string, t: number): boolean {
  return identity.sessions.some((s) => s.sessionId === sessionId && s.attested && isLive(s.expiresAt, t));
}

/**
 * Provisioned permissions at `t`, seen from a session or from none: role grants, live
 * just-in-time grants not bound to a session, and — seen from session `sessionId` while it is live —
 * the just-in-time grants bound to it.
 */
export function candidatesAt(identity: IdentityState, t: number, sessionId?: string): Map<string, Candidate> {
  const out = new Map<string, Candidate>();
  const add = (perm: Perm, grantId: string, role: string | undefined): void => {
    let c = out.get(perm.key);
    if (!c) {
      c = { perm, grants: [], roles: [], jitOnly: role === undefined };
      out.set(perm.key, c);
    }
    if (!c.grants.includes(grantId)) c.grants.push(grantId);
    if (role !== undefined) {
      c.jitOnly = false;
      if (!c.roles.includes(role)) c.roles.push(role);
    }
  };
  for (const g of identity.grants) for (const p of g.perms) add(p, g.grantId, g.role);
  for (const g of identity.jit) {
    if (g.expiresAt <= t) continue;
    if (g.sessionId !== undefined && (g.sessionId !== sessionId || !sessionActiveAt(identity, g.sessionId, t))) continue;
    for (const p of g.perms) add(p, g.grantId, undefined);
  }
  return out;
}

/**
 * The context policies see for `identity` at instant `t`, from a session or from none.
 * Without a session: the facts of every live attested session together, and the approvals not bound
 * to a session. From session `sessionId`: that session's facts only, and the approvals not bound to a
 * session plus those given for it. Per-permission parts (`grant`) are filled by the caller.
 */
export function contextAt(identity: IdentityState, globals: Globals, t: number, sessionId?: string): Omit<ContextView, 'grant'> {
  const live = identity.sessions.filter((s) => s.attested && isLive(s.expiresAt, t) && (sessionId === undefined || s.sessionId === sessionId));
  const releaseWindows: string[] = [];
  for (const w of globals.windows.values()) if (w.startsAt <= t && t < w.endsAt && !releaseWindows.includes(w.namespace)) releaseWindows.push(w.namespace);
  const incidentNamespaces: string[] = [];
  for (const i of globals.incidents.values()) if (!incidentNamespaces.includes(i.namespace)) incidentNamespaces.push(i.namespace);
  return {
    nowMs: t,
    session: {
      active: live.length > 0,
      count: live.length,
      mfa: live.some((s) => s.mfa),
      tasks: [...new Set(live.flatMap((s) => (s.task === undefined ? [] : [s.task])))],
    },
    approvals: approvalsAt(identity, t, sessionId, false),
    humanApprovals: approvalsAt(identity, t, sessionId, true),
    riskScore: identity.riskScore,
    anomalies: [...new Set(identity.anomalies.filter((a) => a.expiresAt > t).map((a) => a.kind))],
    humanUseDetected: identity.humanUseUntil > t,
    releaseWindows,
    incidentNamespaces,
  };
}

function approvalsAt(identity: IdentityState, t: number, sessionId: string | undefined, humanOnly: boolean): string[] {
  const out: string[] = [];
  const sessionLive = sessionId !== undefined && sessionActiveAt(identity, sessionId, t);
  for (const a of identity.approvals) {
    if (a.expiresAt <= t || (humanOnly && !a.human)) continue;
    if (a.sessionId !== undefined && (a.sessionId !== sessionId || !sessionLive)) continue;
    if (!out.includes(a.escalation)) out.push(a.escalation);
  }
  return out;
}

/** Live attested sessions that something is bound to (a just-in-time grant, an approval): scope is also computed as seen from each. */
export function boundSessionsAt(identity: IdentityState, t: number): Session[] {
  const out: Session[] = [];
  for (const s of identity.sessions) {
    if (!s.attested || !isLive(s.expiresAt, t)) continue;
    if (identity.jit.some((g) => g.sessionId === s.sessionId && g.expiresAt > t) || identity.approvals.some((a) => a.sessionId === s.sessionId && a.expiresAt > t)) out.push(s);
  }
  return out;
}

/**
 * Every instant after `t` at which something the scope depends on changes by itself: grant,
 * session and order expiries always; approvals, anomalies, human-use and release windows only when
 * a policy reads them (so an unread input neither wakes the worker nor shortens `validUntil`).
 */
export function boundariesAfter(identity: IdentityState, globals: Globals, policy: ScopePolicy, t: number): number[] {
  const out: number[] = [];
  const push = (x: number | undefined): void => {
    if (x !== undefined && x > t) out.push(x);
  };
  for (const g of identity.jit) push(g.expiresAt);
  for (const s of identity.sessions) push(s.expiresAt);
  for (const o of globals.orders.values()) if (orderApplies(o, identity)) push(o.expiresAt);
  if (policy.reads(PolicyInput.approvals)) for (const a of identity.approvals) push(a.expiresAt);
  if (policy.reads(PolicyInput.anomalies)) for (const a of identity.anomalies) push(a.expiresAt);
  if (policy.reads(PolicyInput.humanUse)) push(identity.humanUseUntil || undefined);
  if (policy.reads(PolicyInput.releaseWindows)) {
    for (const w of globals.windows.values()) {
      push(w.startsAt);
      push(w.endsAt);
    }
  }
  out.sort((a, b) => a - b);
  return out;
}

/** Narrowing orders in force for `identity` at `t` that remove `perm`. */
export function blockingOrders(orders: readonly ActiveOrder[], perm: Perm, t: number): string[] {
  const out: string[] = [];
  for (const o of orders) {
    if (!isLive(o.expiresAt, t)) continue;
    if (o.kind === 'quarantine' || (o.kind === 'read-only' && perm.access !== 'read') || (o.kind === 'deny-actions' && o.actions.includes(perm.action))) out.push(o.orderId);
  }
  return out;
}

export function ordersFor(identity: IdentityState, globals: Globals): ActiveOrder[] {
  const out: ActiveOrder[] = [];
  for (const o of globals.orders.values()) if (orderApplies(o, identity)) out.push(o);
  return out;
}

export interface Evaluator {
  readonly identity: IdentityState;
  readonly globals: Globals;
  readonly policy: ScopePolicy;
  readonly principal: PrincipalView;
  readonly orders: readonly ActiveOrder[];
  /** The session the scope is seen from (see `candidatesAt` and `contextAt`); undefined: none. */
  readonly sessionId?: string;
}

export function evaluator(identity: IdentityState, globals: Globals, policy: ScopePolicy, sessionId?: string): Evaluator {
  return { identity, globals, policy, principal: principalView(identity), orders: ordersFor(identity, globals), sessionId };
}

export interface PermissionAnswer {
  readonly inScope: boolean;
  readonly provisioned: boolean;
  readonly grants: readonly string[];
  readonly orderIds: readonly string[];
  readonly decision: PolicyDecision | undefined;
  readonly context: ContextView | undefined;
}

/** Whether `perm` is in the runtime scope at `t`, and why. */
export function answerAt(ev: Evaluator, perm: Perm, t: number, candidates = candidatesAt(ev.identity, t, ev.sessionId), base?: Omit<ContextView, 'grant'>): PermissionAnswer {
  const c = candidates.get(perm.key);
  if (ev.identity.status !== 'active' || !ev.identity.attested || !c) return { inScope: false, provisioned: !!c, grants: c?.grants ?? [], orderIds: [], decision: undefined, context: undefined };
  const orderIds = blockingOrders(ev.orders, perm, t);
  const context: ContextView = { ...(base ?? contextAt(ev.identity, ev.globals, t, ev.sessionId)), grant: { jit: c.jitOnly, roles: c.roles } };
  if (orderIds.length > 0) return { inScope: false, provisioned: true, grants: c.grants, orderIds, decision: undefined, context };
  const decision = ev.policy.decide(ev.principal, resourceView(perm), context);
  return { inScope: decision.allow, provisioned: true, grants: c.grants, orderIds, decision, context };
}

/**
 * The runtime scope of `identity` at `t`: every provisioned permission that no order removes and
 * the policies allow, each with `validUntil` — the first later instant (among the time boundaries
 * and the policies' own horizons, searched `horizonSearchDepth` deep) at which it is no longer in
 * scope. When the search runs out of depth, `validUntil` is the last instant checked: early, never
 * late, and the worker's timer refreshes it then.
 */
export function computeScope(identity: IdentityState, globals: Globals, policy: ScopePolicy, t: number, config: EngineConfig): ScopeResult {
  if (identity.status !== 'active' || !identity.attested) return { entries: [], excluded: new Map(), wakeAt: null };
  const base = computeView(identity, globals, policy, t, config, undefined);
  const bound = boundSessionsAt(identity, t);
  if (bound.length === 0) return base;
  // Permissions that only an approval or a just-in-time grant given for a session enables hold only in
  // that session: the scope is computed as seen from each such session, and what it adds to the scope
  // seen from none is bound to it.
  const entries = new Map<string, ScopeEntry>(base.entries.map((e) => [e.perm.key, e]));
  const excluded = new Map(base.excluded);
  let wakeAt = base.wakeAt;
  for (const s of bound) {
    const view = computeView(identity, globals, policy, t, config, s.sessionId);
    if (view.wakeAt !== null && (wakeAt === null || view.wakeAt < wakeAt)) wakeAt = view.wakeAt;
    for (const e of view.entries) {
      const held = entries.get(e.perm.key);
      if (held && held.sessions === undefined) continue;
      excluded.delete(e.perm.key);
      if (!held) entries.set(e.perm.key, { ...e, sessions: [s.sessionId] });
      else {
        const validUntil = held.validUntil === null || e.validUntil === null ? null : Math.max(held.validUntil, e.validUntil);
        entries.set(e.perm.key, { perm: e.perm, validUntil, grants: [...new Set([...held.grants, ...e.grants])], sessions: [...held.sessions!, s.sessionId] });
      }
    }
  }
  const list = [...entries.values()].sort((a, b) => (a.perm.key < b.perm.key ? -1 : a.perm.key > b.perm.key ? 1 : 0));
  return { entries: list, excluded, wakeAt };
}

/** The scope as seen from one session (or from none): the permissions and their validUntil. */
function computeView(identity: IdentityState, globals: Globals, policy: ScopePolicy, t: number, config: EngineConfig, sessionId: string | undefined): ScopeResult {
  const ev = evaluator(identity, globals, policy, sessionId);
  const boundaries = boundariesAfter(identity, globals, policy, t);
  const candidates = candidatesAt(identity, t, sessionId);
  const entries: ScopeEntry[] = [];
  const excluded = new Map<string, { orderIds: readonly string[]; policyIds: readonly string[] }>();
  let wakeAt: number | null = boundaries[0] ?? null;
  // Candidates and context depend on the instant only, not on the permission: compute them once per instant.
  const candidatesCache = new Map<number, Map<string, Candidate>>([[t, candidates]]);
  const contextCache = new Map<number, Omit<ContextView, 'grant'>>();
  const at: InstantView = {
    candidates: (x) => {
      let c = candidatesCache.get(x);
      if (!c) candidatesCache.set(x, (c = candidatesAt(identity, x, sessionId)));
      return c;
    },
    context: (x) => {
      let c = contextCache.get(x);
      if (!c) contextCache.set(x, (c = contextAt(identity, globals, x, sessionId)));
      return c;
    },
  };
  for (const c of candidates.values()) {
    const answer = answerAt(ev, c.perm, t, candidates, at.context(t));
    if (answer.decision && policy.reads(PolicyInput.now)) {
      const h = policy.horizon(ev.principal, c.perm, answer.context!);
      if (h !== null && h > t && (wakeAt === null || h < wakeAt)) wakeAt = h;
    }
    if (!answer.inScope) {
      excluded.set(c.perm.key, { orderIds: answer.orderIds, policyIds: answer.decision?.determining ?? [] });
      continue;
    }
    const validUntil = searchValidUntil(ev, c.perm, t, boundaries, config.horizonSearchDepth, at);
    // An exact-size list: the candidate's was grown by push and is kept in the state.
    entries.push({ perm: c.perm, validUntil, grants: c.grants.length === 1 ? [c.grants[0]!] : c.grants.slice(), sessions: undefined });
  }
  entries.sort((a, b) => (a.perm.key < b.perm.key ? -1 : a.perm.key > b.perm.key ? 1 : 0));
  return { entries, excluded, wakeAt };
}

interface InstantView {
  candidates(t: number): Map<string, Candidate>;
  context(t: number): Omit<ContextView, 'grant'>;
}

function searchValidUntil(ev: Evaluator, perm: Perm, t: number, boundaries: readonly number[], depth: number, at: InstantView): number | null {
  let cur = t;
  let bi = 0;
  const readsNow = ev.policy.reads(PolicyInput.now);
  for (let k = 0; k < depth; k++) {
    while (bi < boundaries.length && boundaries[bi]! <= cur) bi++;
    let next: number | null = boundaries[bi] ?? null;
    if (readsNow) {
      const c = at.candidates(cur).get(perm.key);
      if (c) {
        const context: ContextView = { ...at.context(cur), grant: { jit: c.jitOnly, roles: c.roles } };
        const h = ev.policy.horizon(ev.principal, perm, context);
        if (h !== null && h > cur && (next === null || h < next)) next = h;
      }
    }
    if (next === null) return null;
    if (!answerAt(ev, perm, next, at.candidates(next), at.context(next)).inScope) return next;
    cur = next;
  }
  return cur;
}
