/** The caller (GET /v1/me): token subject, roles, and what they allow. */
export { MeService } from './MeService.js';
export { meRoutes, type MeApi } from './routes.js';
