import type { z } from 'zod';
import { access } from '../../auth/roles.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the fleet routes need. */
export interface FleetApi {
  fleet(): Promise<z.input<typeof S.FleetSummary>>;
}

/** Routes of the fleet feature. */
export function fleetRoutes(svc: FleetApi): RouteDef[] {
  return [
    route({
      id: 'fleetSummary',
      method: 'GET',
      path: '/v1/fleet',
      tag: 'fleet',
      summary: 'The fleet at a glance: identities by status, kind and namespace, scope sizes, orders in force, enforcement points, unacknowledged alerts, and scope changes per minute over the last hour',
      roles: access.read,
      success: { status: 200, description: 'Fleet summary.', schema: S.FleetSummary },
      handler: () => svc.fleet(),
    }),
  ];
}
