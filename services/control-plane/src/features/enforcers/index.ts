/** Enforcement points: their acknowledgements stored, listed, and exported as gauges. */
export { AckAuthenticator, parseEnforcerKeys, type AckVerdict, type EnforcerKeys } from './AckAuthenticator.js';
export { readAck } from './readAck.js';
export { EnforcerAckSink } from './EnforcerAckSink.js';
export { EnforcersRepository } from './EnforcersRepository.js';
export { EnforcersService, type EnforcerCounts, type EnforcersDeps } from './EnforcersService.js';
export { enforcerRoutes, type EnforcersApi } from './routes.js';
