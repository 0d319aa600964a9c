/** Escalation approvals of an identity: grant (widening) and withdraw (narrowing). */
export { approvalGrantedEvent, approvalRevokedEvent } from './approvalEvents.js';
export { ApprovalsService, type ApprovalsDeps } from './ApprovalsService.js';
export { approvalRoutes, type ApprovalsApi } from './routes.js';
