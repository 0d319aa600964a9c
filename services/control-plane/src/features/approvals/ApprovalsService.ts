import type { Logger } from '@livescope/transport';
import type { z } from 'zod';
import type { Principal } from '../../auth/roles.js';
import type { ControlPlaneConfig } from '../../config.js';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import type { ControlPlaneMetrics } from '../../ControlPlaneMetrics.js';
import { newApprovalId, newEventId } from '../../events/ids.js';
import { durablePublish } from '../../kafka/durablePublish.js';
import type { EventSender } from '../../kafka/EventSender.js';
import type { IdentityReader } from '../identities/index.js';
import { approvalGrantedEvent, approvalRevokedEvent } from './approvalEvents.js';
import type { ApprovalsApi } from './routes.js';
import type * as S from './schemas.js';

export interface ApprovalsDeps {
  readonly config: Pick<ControlPlaneConfig, 'maxTtlMs'>;
  /** The identities feature: an approval is only given to, or withdrawn from, an identity the workers hold. */
  readonly identities: IdentityReader;
  readonly sender: EventSender;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
}

/** Escalation approvals: granted by an approver for a while, withdrawn by a responder or approver; accepted once durable. */
export class ApprovalsService implements ApprovalsApi {
  constructor(private readonly d: ApprovalsDeps) {}

  async grantApproval(actor: Principal, identityId: string, req: z.infer<typeof S.ApprovalRequest>): Promise<z.input<typeof S.ApprovalAccepted>> {
    await this.d.identities.identity(identityId);
    // Only a person may approve an escalation: never a workload or agent token, never the identity
    // itself, never another identity livescope tracks (the engine refuses such approvals too).
    if (!actor.person) throw new ControlPlaneError('FORBIDDEN', `approvals need a person: the token of ${actor.sub} does not carry the claim that marks a person (LIVESCOPE_API_PERSON_CLAIM)`);
    if (actor.sub === identityId) throw new ControlPlaneError('FORBIDDEN', `${identityId} cannot approve its own escalation`);
    if (await this.d.identities.exists(actor.sub)) throw new ControlPlaneError('FORBIDDEN', `${actor.sub} is a non-human identity livescope tracks; approvals need a person`);
    const now = Date.now();
    const approvalId = newApprovalId();
    const eventId = newEventId();
    const approver = { kind: 'human' as const, subject: actor.sub, issuer: actor.issuer, evidence: 'oidc-id-token' as const, ...(actor.authenticatedAt !== undefined ? { authenticatedAt: new Date(actor.authenticatedAt).toISOString() } : {}) };
    const event = approvalGrantedEvent(identityId, req, { approvalId, eventId, approvedBy: actor.sub, approver, nowMs: now, maxTtlMs: this.d.config.maxTtlMs });
    await durablePublish(this.d.sender, this.d.logger, event, now, () => Promise.resolve(), () => Promise.resolve());
    this.d.metrics.approvals.inc({ action: 'granted' });
    this.d.logger.info({ identityId, approvalId, eventId, escalation: req.escalation, approvedBy: actor.sub, expiresAt: event.data.expiresAt }, 'approval granted');
    return { approvalId, eventId, identityId, escalation: req.escalation, approvedBy: actor.sub, expiresAt: event.data.expiresAt, acceptedAt: new Date().toISOString() };
  }

  async revokeApproval(actor: Principal, identityId: string, approvalId: string): Promise<z.input<typeof S.ApprovalRevoked>> {
    const { state } = await this.d.identities.identity(identityId);
    if (!state.approvals.some((a) => a.approvalId === approvalId)) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} holds no approval ${approvalId}`);
    const now = Date.now();
    const eventId = newEventId();
    await durablePublish(this.d.sender, this.d.logger, approvalRevokedEvent(identityId, approvalId, { eventId, nowMs: now }), now, () => Promise.resolve(), () => Promise.resolve());
    this.d.metrics.approvals.inc({ action: 'revoked' });
    this.d.logger.info({ identityId, approvalId, eventId, actor: actor.sub }, 'approval revoked');
    return { approvalId, eventId, identityId, acceptedAt: new Date().toISOString() };
  }
}
