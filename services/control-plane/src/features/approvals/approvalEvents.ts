import { identityEvent, type Approver, type EventOf } from '@livescope/contracts';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { EVENT_SOURCE, expiryOf, type Stamp } from '../../events/expiry.js';

export function approvalGrantedEvent(
  identityId: string,
  req: { readonly escalation: string; readonly sessionId?: string | undefined; readonly ttlSeconds?: number | undefined; readonly expiresAt?: string | undefined },
  s: Stamp & { readonly approvalId: string; readonly approvedBy: string; readonly approver: Approver; readonly maxTtlMs: number },
): EventOf<'session.approval-granted'> {
  const expiresAt = expiryOf(req, s.nowMs, s.maxTtlMs);
  if (expiresAt === undefined) throw new ControlPlaneError('INVALID_REQUEST', 'an approval needs ttlSeconds or expiresAt', { paths: ['ttlSeconds'] });
  return identityEvent(
    'session.approval-granted',
    identityId,
    { approvalId: s.approvalId, escalation: req.escalation, approvedBy: s.approvedBy, approver: s.approver, expiresAt, ...(req.sessionId !== undefined ? { sessionId: req.sessionId } : {}) },
    { id: s.eventId, time: s.nowMs, source: EVENT_SOURCE },
  );
}

export function approvalRevokedEvent(identityId: string, approvalId: string, s: Stamp): EventOf<'session.approval-revoked'> {
  return identityEvent('session.approval-revoked', identityId, { approvalId }, { id: s.eventId, time: s.nowMs, source: EVENT_SOURCE });
}
