import { broadcastEvent, type EventOf } from '@livescope/contracts';
import { EVENT_SOURCE, expiryOf, type Stamp } from '../../events/expiry.js';
import type { IssueOrderRequest } from './schemas.js';

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
