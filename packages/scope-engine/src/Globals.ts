import type { OrderKind, OrderTarget } from '@livescope/contracts';

/**
 * Org-wide state, identical in every partition because its events are broadcast to all of them:
 * release windows, incident modes and responder orders. Policies live beside it in the engine.
 */
export interface ReleaseWindow {
  readonly windowId: string;
  readonly namespace: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly signedBy: string;
}

export interface Incident {
  readonly incidentId: string;
  readonly namespace: string;
}

/** A narrowing order in force: read-only, deny-actions or quarantine. One-shot revocations are not kept. */
export interface ActiveOrder {
  readonly orderId: string;
  readonly kind: Extract<OrderKind, 'read-only' | 'deny-actions' | 'quarantine'>;
  readonly target: OrderTarget;
  readonly actions: readonly string[];
  readonly expiresAt: number | undefined;
  readonly issuedAt: number;
  readonly actor: string;
  readonly reason: string;
}

export interface Globals {
  readonly windows: ReadonlyMap<string, ReleaseWindow>;
  readonly incidents: ReadonlyMap<string, Incident>;
  readonly orders: ReadonlyMap<string, ActiveOrder>;
  /** Ids of lifted orders and cancelled windows, so a late duplicate cannot re-apply them. */
  readonly lifted: readonly string[];
  /** Event time of the last toggle of each incident, so an older (late or replayed) toggle cannot undo a newer one. */
  readonly incidentToggles: ReadonlyMap<string, number>;
  /** Recent broadcast event ids (duplicate detection for org-wide events). */
  readonly recentEventIds: readonly string[];
}

export const emptyGlobals = (): Globals => ({ windows: new Map(), incidents: new Map(), orders: new Map(), lifted: [], incidentToggles: new Map(), recentEventIds: [] });

export const NARROWING_ORDER_KINDS: ReadonlySet<OrderKind> = new Set(['read-only', 'deny-actions', 'quarantine']);
