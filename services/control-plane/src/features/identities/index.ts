/** Identity views: the fleet a page at a time, scope, past versions, history, explain. */
export { IdentitiesRepository } from './IdentitiesRepository.js';
export { IdentitiesService, type IdentitiesDeps, type IdentityReader } from './IdentitiesService.js';
export { builtInPolicyCompiler } from './policyCompiler.js';
export { identityRoutes, type IdentitiesApi } from './routes.js';
