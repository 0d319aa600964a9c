import type { RouteDef } from '../http/RouteDef.js';
import { alertRoutes, type AlertsApi } from '../features/alerts/index.js';
import { approvalRoutes, type ApprovalsApi } from '../features/approvals/index.js';
import { authRoutes, type AuthApi } from '../features/auth/index.js';
import { changeRoutes, type ChangesApi } from '../features/changes/index.js';
import { consoleRoutes, type ConsoleApi } from '../features/console/index.js';
import { enforcerRoutes, type EnforcersApi } from '../features/enforcers/index.js';
import { fleetRoutes, type FleetApi } from '../features/fleet/index.js';
import { identityRoutes, type IdentitiesApi } from '../features/identities/index.js';
import { meRoutes, type MeApi } from '../features/me/index.js';
import { openApiRoutes, type OpenApiApi } from '../features/openapi/index.js';
import { operationsRoutes, type OperationsApi } from '../features/operations/index.js';
import { orderRoutes, type OrdersApi } from '../features/orders/index.js';
import { policyRoutes, type PoliciesApi } from '../features/policies/index.js';

/** What the routes need from the rest of the control plane: one service per feature (see ControlPlane). */
export interface ApiServices {
  readonly orders: OrdersApi;
  readonly identities: IdentitiesApi;
  readonly approvals: ApprovalsApi;
  readonly alerts: AlertsApi;
  readonly fleet: FleetApi;
  readonly changes: ChangesApi;
  readonly me: MeApi;
  readonly enforcers: EnforcersApi;
  readonly operations: OperationsApi;
  readonly console: ConsoleApi;
  readonly openapi: OpenApiApi;
  readonly policies: PoliciesApi;
  readonly auth: AuthApi;
}

/**
 * The API's route table: every feature's routes. Order matters only for the generated document
 * (its paths follow this order); a new feature adds its table here and its service to ApiServices.
 */
export function apiRoutes(s: ApiServices): RouteDef[] {
  return [
    ...orderRoutes(s.orders),
    ...identityRoutes(s.identities),
    ...approvalRoutes(s.approvals),
    ...alertRoutes(s.alerts),
    ...fleetRoutes(s.fleet),
    ...changeRoutes(s.changes),
    ...meRoutes(s.me),
    ...enforcerRoutes(s.enforcers),
    ...operationsRoutes(s.operations),
    ...consoleRoutes(s.console),
    ...openApiRoutes(s.openapi),
    ...policyRoutes(s.policies),
    ...authRoutes(s.auth),
  ];
}
