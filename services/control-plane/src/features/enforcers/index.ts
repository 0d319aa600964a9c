/** Enforcement points: their acknowledgements stored, listed, and exported as gauges. */
export { EnforcerAckSink } from './EnforcerAckSink.js';
export { EnforcersRepository } from './EnforcersRepository.js';
export { EnforcersService, type EnforcerCounts, type EnforcersDeps } from './EnforcersService.js';
export { enforcerRoutes, type EnforcersApi } from './routes.js';
