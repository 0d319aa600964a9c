import { broadcastEvent, identityEvent, type EventOf } from '@livescope/contracts';
import type { IssueOrderRequest } from '../api/schemas.js';
import { ControlPlaneError } from '../ControlPlaneError.js';

/** The source of events the control plane publishes (CloudEvents `source`). */
export const EVENT_SOURCE = 'livescope/control-plane';

/**
 * The absolute expiry of an order or approval from `ttlSeconds` or `expiresAt` (never both), in
 * the future and within `maxTtlMs`. Undefined when neither is given.
 */
export function expiryOf(req: { readonly ttlSeconds?: number | undefined; readonly expiresAt?: string | undefined }, nowMs: number, maxTtlMs: number): string | undefined {
  if (req.ttlSeconds !== undefined && req.expiresAt !== undefined) throw new ControlPlaneError('INVALID_REQUEST', 'give ttlSeconds or expiresAt, not both', { paths: ['ttlSeconds', 'expiresAt'] });
  if (req.ttlSeconds !== undefined) {
    if (req.ttlSeconds * 1000 > maxTtlMs) throw new ControlPlaneError('INVALID_REQUEST', `ttlSeconds: at most ${Math.floor(maxTtlMs / 1000)} seconds`, { paths: ['ttlSeconds'] });
    return new Date(nowMs + req.ttlSeconds * 1000).toISOString();
  }
  if (req.expiresAt !== undefined) {
    const at = Date.parse(req.expiresAt);
    if (at <= nowMs) throw new ControlPlaneError('INVALID_REQUEST', 'expiresAt: must be in the future', { paths: ['expiresAt'] });
    if (at - nowMs > maxTtlMs) throw new ControlPlaneError('INVALID_REQUEST', `expiresAt: at most ${Math.floor(maxTtlMs / 1000)} seconds from now`, { paths: ['expiresAt'] });
    return new Date(at).toISOString();
  }
  return undefined;
}

export interface Stamp {
  /** Id of the event to publish. */
  readonly eventId: string;
  readonly nowMs: number;
}

/** The `order.issued` broadcast for a request; `actor` is the token subject. */
export function orderIssuedEvent(req: IssueOrderRequest, ids: Stamp & { readonly orderId: string; readonly actor: string; readonly maxTtlMs: number }): EventOf<'order.issued'> {
  const base = { orderId: ids.orderId, kind: req.kind, target: req.target, reason: req.reason, actor: ids.actor };
  let data: Parameters<typeof broadcastEvent<'order.issued'>>[1];
  switch (req.kind) {
    case 'read-only':
    case 'quarantine':
    case 'deny-actions': {
      const expiresAt = expiryOf(req, ids.nowMs, ids.maxTtlMs);
      data = { ...base, ...(req.kind === 'deny-actions' ? { actions: req.actions } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) };
      break;
    }
    case 'revoke-secret-leases':
      data = { ...base, secretPath: req.secretPath };
      break;
    case 'revoke-session':
      data = { ...base, sessionId: req.sessionId };
      break;
    case 'revoke-token':
      data = { ...base, tokenId: req.tokenId };
      break;
  }
  return broadcastEvent('order.issued', data, { id: ids.eventId, time: ids.nowMs, source: EVENT_SOURCE });
}

export function orderLiftedEvent(orderId: string, actor: string, reason: string | undefined, s: Stamp): EventOf<'order.lifted'> {
  return broadcastEvent('order.lifted', { orderId, actor, ...(reason !== undefined ? { reason } : {}) }, { id: s.eventId, time: s.nowMs, source: EVENT_SOURCE });
}

export function approvalGrantedEvent(
  identityId: string,
  req: { readonly escalation: string; readonly sessionId?: string | undefined; readonly ttlSeconds?: number | undefined; readonly expiresAt?: string | undefined },
  s: Stamp & { readonly approvalId: string; readonly approvedBy: string; readonly maxTtlMs: number },
): EventOf<'session.approval-granted'> {
  const expiresAt = expiryOf(req, s.nowMs, s.maxTtlMs);
  if (expiresAt === undefined) throw new ControlPlaneError('INVALID_REQUEST', 'an approval needs ttlSeconds or expiresAt', { paths: ['ttlSeconds'] });
  return identityEvent(
    'session.approval-granted',
    identityId,
    { approvalId: s.approvalId, escalation: req.escalation, approvedBy: s.approvedBy, expiresAt, ...(req.sessionId !== undefined ? { sessionId: req.sessionId } : {}) },
    { id: s.eventId, time: s.nowMs, source: EVENT_SOURCE },
  );
}

export function approvalRevokedEvent(identityId: string, approvalId: string, s: Stamp): EventOf<'session.approval-revoked'> {
  return identityEvent('session.approval-revoked', identityId, { approvalId }, { id: s.eventId, time: s.nowMs, source: EVENT_SOURCE });
}
