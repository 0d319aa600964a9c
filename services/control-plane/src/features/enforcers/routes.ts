import type { z } from 'zod';
import { access } from '../../auth/roles.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the enforcement-point routes need. */
export interface EnforcersApi {
  enforcers(): Promise<z.input<typeof S.EnforcersList>>;
}

/** Routes of the enforcement-points feature. */
export function enforcerRoutes(svc: EnforcersApi): RouteDef[] {
  return [
    route({
      id: 'listEnforcers',
      method: 'GET',
      path: '/v1/enforcers',
      tag: 'enforcers',
      summary: 'Enforcement points: last applied version, staleness and revocation lag (p50 / p99 / max)',
      roles: access.read,
      success: { status: 200, description: 'Enforcement points.', schema: S.EnforcersList },
      handler: () => svc.enforcers(),
    }),
  ];
}
