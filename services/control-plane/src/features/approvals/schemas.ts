import { Instant, SessionId } from '@livescope/contracts';
import { z } from 'zod';
import { component, IdentityParams, Name, TtlSeconds } from '../../http/schemas.js';

/** Requests and answers of the approvals API: escalations a human approves for a while, and their withdrawal. */
export const ApprovalRequest = component(
  'ApprovalRequest',
  z.strictObject({
    escalation: Name.describe('The escalation approved, as policies see it in `context.approvals`, e.g. `secret-retrieval`.'),
    sessionId: SessionId.optional(),
    ttlSeconds: TtlSeconds.optional(),
    expiresAt: Instant.optional(),
  }).refine((r) => (r.ttlSeconds === undefined) !== (r.expiresAt === undefined), { message: 'give exactly one of ttlSeconds or expiresAt', path: ['ttlSeconds'] }),
);

export const ApprovalAccepted = component(
  'ApprovalAccepted',
  z.object({ approvalId: z.string(), eventId: z.string(), identityId: z.string(), escalation: z.string(), approvedBy: z.string(), expiresAt: Instant, acceptedAt: Instant }),
);

export const ApprovalParams = IdentityParams.extend({ approvalId: Name });
export const ApprovalRevoked = component(
  'ApprovalRevoked',
  z.object({ approvalId: z.string(), eventId: z.string(), identityId: z.string(), acceptedAt: Instant }),
);
