import type { BroadcastEvent, Cause, OrderTarget } from '@livescope/contracts';
import { toMs } from './evolveIdentity.js';
import type { ActiveOrder, Globals } from './Globals.js';
import { ring } from './idHash.js';
import type { PolicyInputTag } from './evolveIdentity.js';
import { PolicyInput, type ScopePolicy } from './ScopePolicy.js';

/** A published policy set as it was received (what a restarted worker compiles again). */
export interface PublishedPolicies {
  readonly version: number;
  readonly files: readonly { id: string; text: string }[];
}

/** Org-wide state of a partition: the globals, and the policy set in force. */
export interface GlobalsState {
  readonly globals: Globals;
  readonly policy: ScopePolicy;
  readonly published: PublishedPolicies | undefined;
}

/** Compiles a published policy set. Throws (with a readable message) when the set is invalid. */
export type PolicyCompiler = (files: readonly { id: string; text: string }[], version: number) => ScopePolicy;
/** Verifies the signature of a release window by a release manager. */
export type ReleaseWindowVerifier = (window: Extract<BroadcastEvent, { type: 'org.release-window' }>['data']) => boolean;

/**
 * Which identities an org-wide event reaches. The engine resolves targets through its index — never
 * a scan of the fleet — and limits them to the namespaces of the producer key when it is limited.
 */
export type Targets =
  | { readonly kind: 'order'; readonly target: OrderTarget }
  /** Identities holding a provisioned permission on a resource of this namespace (release windows, incidents). */
  | { readonly kind: 'permission-namespace'; readonly namespace: string }
  /** Identities a policy change can affect (the union of the changed policies' scopes). */
  | { readonly kind: 'policy-change'; readonly before: ScopePolicy; readonly after: ScopePolicy }
  /** Identities holding a lease of this secret. */
  | { readonly kind: 'secret-holders'; readonly secretPath: string };

/** What an org-wide event asks of the identities it reaches, in order. */
export type GlobalEffect =
  /** Recompute the scope (the globals or the policy it depends on changed). */
  | { readonly type: 'recompute'; readonly targets: Targets }
  /** Quarantine: revoke every session and lease now and recompute (the order removes every permission). */
  | { readonly type: 'quarantine'; readonly targets: Targets; readonly reason: string }
  /** One-shot revocation orders: act now, keep nothing. */
  | { readonly type: 'revoke-leases'; readonly targets: Targets; readonly secretPath: string; readonly reason: string }
  | { readonly type: 'revoke-session'; readonly targets: Targets; readonly sessionId: string; readonly reason: string }
  | { readonly type: 'revoke-token'; readonly targets: Targets; readonly tokenId: string; readonly reason: string }
  /** A leaked secret: every lease of it is revoked with a critical alert. */
  | { readonly type: 'secret-leaked'; readonly targets: Targets; readonly secretPath: string; readonly evidence: string | undefined };

/** What applying one org-wide event did. Pure: the engine applies `effects` to its identities. */
export interface GlobalsTransition {
  readonly status: 'applied' | 'unchanged' | 'duplicate' | 'rejected';
  readonly state: GlobalsState;
  readonly effects: readonly GlobalEffect[];
  readonly cause: Cause;
  /** Set when `status` is `rejected`: the dead-letter reason and a message. */
  readonly reject?: { readonly reason: 'invalid-policy' | 'invalid-signature' | 'unauthorized-producer'; readonly message: string };
}

export interface GlobalsContext {
  /** The processing instant (the broker's append time), epoch ms. */
  readonly t: number;
  /** The event's own time, capped at `t`, epoch ms. */
  readonly eventTimeMs: number;
  readonly compilePolicies: PolicyCompiler;
  readonly verifyReleaseWindow: ReleaseWindowVerifier;
  /** Namespaces the producer key is limited to; undefined: unlimited. */
  readonly namespaces: readonly string[] | undefined;
}

const MAX_RECENT = 64;
const MAX_LIFTED = 256;

/**
 * Applies one org-wide (broadcast) event to the partition's org-wide state: policies, release
 * windows, incident modes, responder orders and leaked secrets. The decider of the org-wide rules,
 * beside `evolveIdentity` for identity events; the caller has already checked the producer's
 * capability for the event type.
 */
export function evolveGlobals(s: GlobalsState, event: BroadcastEvent, ctx: GlobalsContext): GlobalsTransition {
  const g = s.globals;
  const cause: Cause = { eventId: event.id, eventType: event.type };
  if (g.recentEventIds.includes(event.id)) return { status: 'duplicate', state: s, effects: [], cause };
  const remember = (next: Partial<Globals>, state: Partial<GlobalsState> = {}): GlobalsState => ({
    ...s,
    ...state,
    globals: { ...g, ...next, recentEventIds: ring(g.recentEventIds, event.id, MAX_RECENT) },
  });
  const outside = (namespace: string | undefined): boolean => ctx.namespaces !== undefined && (namespace === undefined || !ctx.namespaces.includes(namespace));
  const refuse = (message: string): GlobalsTransition => ({ status: 'rejected', state: s, effects: [], cause, reject: { reason: 'unauthorized-producer', message } });
  const recomputeIfRead = (input: PolicyInputTag, targets: Targets): GlobalEffect[] => (s.policy.reads(input) ? [{ type: 'recompute', targets }] : []);

  switch (event.type) {
    case 'policies.published': {
      if (ctx.namespaces !== undefined) return refuse(`a producer key limited to namespaces ${ctx.namespaces.join(', ')} cannot publish org-wide policies`);
      let compiled: ScopePolicy;
      try {
        compiled = ctx.compilePolicies(event.data.policies, event.data.version);
      } catch (e) {
        return { status: 'rejected', state: s, effects: [], cause, reject: { reason: 'invalid-policy', message: e instanceof Error ? e.message : String(e) } };
      }
      if (s.published && event.data.version <= s.published.version) return { status: 'duplicate', state: s, effects: [], cause };
      const state = remember({}, { policy: compiled, published: { version: event.data.version, files: event.data.policies } });
      return { status: 'applied', state, effects: [{ type: 'recompute', targets: { kind: 'policy-change', before: s.policy, after: compiled } }], cause: { ...cause, actor: event.data.publishedBy } };
    }
    case 'org.release-window': {
      const d = event.data;
      if (outside(d.namespace)) return refuse(`release window ${d.windowId} is for namespace ${d.namespace}, outside the producer key's namespaces`);
      if (g.lifted.includes(`window:${d.windowId}`)) return { status: 'unchanged', state: remember({}), effects: [], cause };
      if (!ctx.verifyReleaseWindow(d)) return { status: 'rejected', state: s, effects: [], cause, reject: { reason: 'invalid-signature', message: `release window ${d.windowId} is not validly signed by ${d.signedBy}` } };
      const windows = new Map(g.windows);
      windows.set(d.windowId, { windowId: d.windowId, namespace: d.namespace, startsAt: toMs(d.startsAt), endsAt: toMs(d.endsAt), signedBy: d.signedBy });
      return { status: 'applied', state: remember({ windows }), effects: recomputeIfRead(PolicyInput.releaseWindows, { kind: 'permission-namespace', namespace: d.namespace }), cause: { ...cause, actor: d.signedBy } };
    }
    case 'org.release-window-cancelled': {
      const w = g.windows.get(event.data.windowId);
      if (w && outside(w.namespace)) return refuse(`release window ${w.windowId} is for namespace ${w.namespace}, outside the producer key's namespaces`);
      const windows = new Map(g.windows);
      windows.delete(event.data.windowId);
      const state = remember({ windows, lifted: ring(g.lifted, `window:${event.data.windowId}`, MAX_LIFTED) });
      return { status: 'applied', state, effects: w ? recomputeIfRead(PolicyInput.releaseWindows, { kind: 'permission-namespace', namespace: w.namespace }) : [], cause };
    }
    case 'org.incident-mode': {
      const d = event.data;
      if (outside(d.namespace)) return refuse(`incident ${d.incidentId} is for namespace ${d.namespace}, outside the producer key's namespaces`);
      const held = g.incidents.get(d.incidentId);
      // A toggle older than the last one applied (a late or replayed event) does not undo a newer one.
      const lastToggle = g.incidentToggles.get(d.incidentId);
      if (lastToggle !== undefined && ctx.eventTimeMs < lastToggle) return { status: 'unchanged', state: remember({}), effects: [], cause };
      const incidents = new Map(g.incidents);
      if (d.active) incidents.set(d.incidentId, { incidentId: d.incidentId, namespace: d.namespace });
      else incidents.delete(d.incidentId);
      const incidentToggles = new Map(g.incidentToggles);
      incidentToggles.set(d.incidentId, ctx.eventTimeMs);
      const namespace = held?.namespace ?? d.namespace;
      return { status: 'applied', state: remember({ incidents, incidentToggles }), effects: recomputeIfRead(PolicyInput.incidents, { kind: 'permission-namespace', namespace }), cause };
    }
    case 'order.issued':
      return issueOrder(s, event, ctx, remember, outside, refuse);
    case 'order.lifted': {
      const order = g.orders.get(event.data.orderId);
      // Lifting is widening: a key limited to namespaces can lift only an order confined to them.
      if (order && ctx.namespaces !== undefined && outside(targetNamespace(order.target))) return refuse(`order ${order.orderId} is not confined to the producer key's namespaces ${ctx.namespaces.join(', ')}; it cannot lift it`);
      const liftedCause: Cause = { ...cause, orderIds: [event.data.orderId], actor: event.data.actor };
      if (!order) return { status: 'unchanged', state: remember({ lifted: ring(g.lifted, `order:${event.data.orderId}`, MAX_LIFTED) }), effects: [], cause: liftedCause };
      const orders = new Map(g.orders);
      orders.delete(order.orderId);
      const state = remember({ orders, lifted: ring(g.lifted, `order:${order.orderId}`, MAX_LIFTED) });
      return { status: 'applied', state, effects: [{ type: 'recompute', targets: { kind: 'order', target: order.target } }], cause: liftedCause };
    }
    case 'secret.leaked':
      // An observation: it only revokes. Every producer may report a leak.
      return { status: 'applied', state: remember({}), effects: [{ type: 'secret-leaked', targets: { kind: 'secret-holders', secretPath: event.data.secretPath }, secretPath: event.data.secretPath, evidence: event.data.evidence }], cause };
    default: {
      const unknown: never = event;
      return { status: 'rejected', state: s, effects: [], cause, reject: { reason: 'unauthorized-producer', message: `org-wide event type ${String((unknown as { type?: unknown }).type)} is not supported` } };
    }
  }
}

/** The namespace an order target is confined to, if any (a selector naming one). */
export function targetNamespace(target: OrderTarget): string | undefined {
  return 'selector' in target ? (target.selector).namespace : undefined;
}

function issueOrder(
  s: GlobalsState,
  event: Extract<BroadcastEvent, { type: 'order.issued' }>,
  ctx: GlobalsContext,
  remember: (next: Partial<Globals>) => GlobalsState,
  outside: (namespace: string | undefined) => boolean,
  refuse: (message: string) => GlobalsTransition,
): GlobalsTransition {
  const d = event.data;
  const g = s.globals;
  const cause: Cause = { eventId: event.id, eventType: event.type, orderIds: [d.orderId], actor: d.actor };
  // A key limited to namespaces reaches only identities inside them (the engine filters the targets);
  // a selector that names another namespace is refused outright.
  const named = targetNamespace(d.target);
  if (ctx.namespaces !== undefined && named !== undefined && outside(named)) {
    return refuse(`order ${d.orderId} targets identities outside the producer key's namespaces ${ctx.namespaces.join(', ')}`);
  }
  if (g.lifted.includes(`order:${d.orderId}`)) return { status: 'unchanged', state: remember({}), effects: [], cause };
  const targets: Targets = { kind: 'order', target: d.target };
  const reason = `${d.kind} ordered by ${d.actor}: ${d.reason}`;
  switch (d.kind) {
    case 'read-only':
    case 'deny-actions':
    case 'quarantine': {
      const expiresAt = d.expiresAt === undefined ? undefined : toMs(d.expiresAt);
      const order: ActiveOrder = { orderId: d.orderId, kind: d.kind, target: d.target, actions: d.actions ?? [], expiresAt, issuedAt: ctx.t, actor: d.actor, reason: d.reason };
      const orders = new Map(g.orders);
      const replaced = orders.get(order.orderId);
      orders.set(order.orderId, order);
      const effects: GlobalEffect[] = [];
      // Re-issuing an order id replaces the order: identities only the old target matched are released.
      if (replaced) effects.push({ type: 'recompute', targets: { kind: 'order', target: replaced.target } });
      effects.push(d.kind === 'quarantine' ? { type: 'quarantine', targets, reason: `quarantined by ${d.actor}: ${d.reason}` } : { type: 'recompute', targets });
      return { status: 'applied', state: remember({ orders }), effects, cause };
    }
    case 'revoke-secret-leases':
      return { status: 'applied', state: remember({}), effects: d.secretPath === undefined ? [] : [{ type: 'revoke-leases', targets, secretPath: d.secretPath, reason }], cause };
    case 'revoke-session':
      return { status: 'applied', state: remember({}), effects: d.sessionId === undefined ? [] : [{ type: 'revoke-session', targets, sessionId: d.sessionId, reason }], cause };
    case 'revoke-token':
      return { status: 'applied', state: remember({}), effects: d.tokenId === undefined ? [] : [{ type: 'revoke-token', targets, tokenId: d.tokenId, reason }], cause };
    default: {
      const unknown: never = d.kind;
      return refuse(`order kind ${String(unknown)} is not supported`);
    }
  }
}
