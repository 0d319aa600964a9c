import type { EngineConfig } from './EngineConfig.js';
import { answerAt, candidatesAt, computeScope, evaluator } from './computeScope.js';
import type { Globals } from './Globals.js';
import { permKey, type IdentityState } from './IdentityState.js';
import type { ContextView, ScopePolicy } from './ScopePolicy.js';

/** Why an identity can or cannot do (action, resource) at an instant. */
export interface Explanation {
  readonly identityId: string;
  readonly action: string;
  readonly resource: string;
  readonly at: string;
  readonly allowed: boolean;
  readonly status: IdentityState['status'];
  readonly version: number;
  /** Grants that provision the permission (role grants and live just-in-time grants). */
  readonly provisioned: readonly { readonly grantId: string; readonly role?: string; readonly jit: boolean; readonly expiresAt?: string }[];
  /** Orders in force that remove it. */
  readonly orders: readonly { readonly orderId: string; readonly kind: string; readonly actor: string; readonly reason: string; readonly expiresAt?: string }[];
  /** Policies that determined the decision (the permits when allowed, the forbids when denied) and policies that errored. */
  readonly policies: { readonly determining: readonly string[]; readonly errors: readonly string[]; readonly policySetVersion: number };
  /** The context facts the policies were evaluated on. */
  readonly context?: Omit<ContextView, 'nowMs'> & { readonly now: string };
  /** Until when this answer holds without a new event (null: no such instant). */
  readonly validUntil: string | null;
  /** The session the question was asked for (undefined: none, i.e. the identity's session-independent scope). */
  readonly session?: string;
  /** When allowed only in some sessions: the sessions the permission is bound to (an approval or a grant given for them). */
  readonly boundToSessions?: readonly string[];
  /** One sentence a responder can read. */
  readonly summary: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Why `identity` can or cannot do (action, resource) at `t` — as seen from `sessionId` when given:
 * a permission that an approval or a just-in-time grant given for a session enables is allowed
 * only there, and the answer says which sessions it is bound to.
 */
export function explain(identity: IdentityState, globals: Globals, policy: ScopePolicy, action: string, resource: string, t: number, config: EngineConfig, sessionId?: string): Explanation {
  const key = permKey(action, resource);
  const candidates = candidatesAt(identity, t, sessionId);
  const c = candidates.get(key);
  const provisioned = [
    ...identity.grants.filter((g) => g.perms.some((p) => p.key === key)).map((g) => ({ grantId: g.grantId, role: g.role, jit: false })),
    ...identity.jit.filter((g) => g.perms.some((p) => p.key === key) && c?.grants.includes(g.grantId)).map((g) => ({ grantId: g.grantId, jit: true, expiresAt: iso(g.expiresAt) })),
  ];
  const base = { identityId: identity.id, action, resource, at: iso(t), status: identity.status, version: identity.version, provisioned, ...(sessionId !== undefined ? { session: sessionId } : {}) };
  const ev = evaluator(identity, globals, policy, sessionId);
  if (!c) {
    return { ...base, allowed: false, orders: [], policies: { determining: [], errors: [], policySetVersion: policy.version }, validUntil: null, summary: identity.status !== 'active' ? `${identity.id} is ${identity.status}` : `${action} on ${resource} is not provisioned to ${identity.id}` };
  }
  const answer = answerAt(ev, c.perm, t, candidates);
  const orders = ev.orders
    .filter((o) => answer.orderIds.includes(o.orderId))
    .map((o) => ({ orderId: o.orderId, kind: o.kind, actor: o.actor, reason: o.reason, ...(o.expiresAt !== undefined ? { expiresAt: iso(o.expiresAt) } : {}) }));
  const entry = computeScope(identity, globals, policy, t, config).entries.find((e) => e.perm.key === key);
  // Bound to other sessions than the one asked about (or asked about none): not allowed here.
  const elsewhere = answer.inScope && entry?.sessions !== undefined && (sessionId === undefined || !entry.sessions.includes(sessionId));
  const { nowMs, ...context } = answer.context ?? ({} as ContextView);
  const determining = answer.decision?.determining ?? [];
  const bound = entry?.sessions ? ` (only in session${entry.sessions.length === 1 ? '' : 's'} ${entry.sessions.join(', ')})` : '';
  const summary = elsewhere
    ? `denied${sessionId === undefined ? ' outside a session' : ` in session ${sessionId}`}: allowed only in session${entry!.sessions!.length === 1 ? '' : 's'} ${entry!.sessions!.join(', ')}, where an approval or a grant was given`
    : answer.inScope
    ? `allowed: provisioned by ${c.grants.join(', ')} and permitted by ${determining.join(', ') || 'the policies'}${entry?.validUntil ? `, until ${iso(entry.validUntil)}` : ''}${bound}`
    : orders.length
      ? `denied by order ${orders.map((o) => `${o.orderId} (${o.kind}, ${o.actor})`).join(', ')}`
      : identity.status !== 'active'
        ? `denied: ${identity.id} is ${identity.status}`
        : `denied by ${determining.length ? determining.join(', ') : 'default deny (no policy permits it)'}`;
  return {
    ...base,
    allowed: answer.inScope && !elsewhere,
    ...(entry?.sessions !== undefined ? { boundToSessions: [...entry.sessions] } : {}),
    orders,
    policies: { determining, errors: answer.decision?.errors ?? [], policySetVersion: policy.version },
    ...(answer.context ? { context: { ...context, now: iso(nowMs) } } : {}),
    validUntil: answer.inScope && !elsewhere && entry?.validUntil ? iso(entry.validUntil) : null,
    summary,
  };
}
