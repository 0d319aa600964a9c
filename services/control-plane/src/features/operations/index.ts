/** Operational probes: liveness, readiness, Prometheus metrics. */
export { OperationsService, type OperationsDeps } from './OperationsService.js';
export { operationsRoutes, type OperationsApi, type Readiness } from './routes.js';
