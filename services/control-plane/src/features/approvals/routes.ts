import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import { IdentityParams } from '../../http/schemas.js';
import * as S from './schemas.js';

/** What the approvals routes need. */
export interface ApprovalsApi {
  grantApproval(actor: Principal, identityId: string, req: z.infer<typeof S.ApprovalRequest>): Promise<z.input<typeof S.ApprovalAccepted>>;
  revokeApproval(actor: Principal, identityId: string, approvalId: string): Promise<z.input<typeof S.ApprovalRevoked>>;
}

/** Routes of the approvals feature (under an identity: the tag stays `identities`). */
export function approvalRoutes(svc: ApprovalsApi): RouteDef[] {
  return [
    route({
      id: 'grantApproval',
      method: 'POST',
      path: '/v1/identities/:identityId/approvals',
      tag: 'identities',
      summary: 'Approve an escalation for a while (widening: approver role)',
      roles: access.widen,
      params: IdentityParams,
      body: S.ApprovalRequest,
      success: { status: 202, description: 'The approval is durably published.', schema: S.ApprovalAccepted },
      errors: [404, 503],
      handler: ({ principal, params, body }) => svc.grantApproval(principal!, params.identityId, body),
    }),
    route({
      id: 'revokeApproval',
      method: 'POST',
      path: '/v1/identities/:identityId/approvals/:approvalId/revoke',
      tag: 'identities',
      summary: 'Withdraw an approval (narrowing)',
      roles: [...access.narrow, ...access.widen],
      params: S.ApprovalParams,
      success: { status: 202, description: 'The revocation is durably published.', schema: S.ApprovalRevoked },
      errors: [404, 503],
      handler: ({ principal, params }) => svc.revokeApproval(principal!, params.identityId, params.approvalId),
    }),
  ];
}
