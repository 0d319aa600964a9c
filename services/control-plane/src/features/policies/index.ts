/** The policy lifecycle: validate, test, diff, impact on the live fleet, publish (with an optional second admin), history and rollback. */
export { PoliciesRepository, type AppliedRow, type RequestRow } from './PoliciesRepository.js';
export { contentHash, PoliciesService, type PoliciesDeps, type PolicyApprovalMode } from './PoliciesService.js';
export { policyRoutes, type PoliciesApi } from './routes.js';
