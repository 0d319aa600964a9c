/** The fleet-wide change feed: newest scope changes and revocations, and their stream. */
export { ChangesRepository } from './ChangesRepository.js';
export { ChangesService, type ChangesDeps } from './ChangesService.js';
export { changeRoutes, type ChangesApi } from './routes.js';
