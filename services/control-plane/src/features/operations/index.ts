/** Operational probes: liveness, readiness, Prometheus metrics. */
export { OperationsService, type Dependency, type OperationsDeps } from './OperationsService.js';
export { operationsRoutes, type CheckResult, type OperationsApi, type Readiness } from './routes.js';
