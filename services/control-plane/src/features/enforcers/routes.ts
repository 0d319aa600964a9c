import type { z } from 'zod';
import { access } from '../../auth/roles.js';
import { pageOfList } from '../../http/pagination.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the enforcement-point routes need. */
export interface EnforcersApi {
  /** Every enforcement point (the route pages them). */
  enforcers(): Promise<Omit<z.input<typeof S.EnforcersList>, 'nextCursor'>>;
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
      query: S.EnforcersQuery,
      success: { status: 200, description: 'Enforcement points, a page at a time.', schema: S.EnforcersList },
      handler: async ({ query }) => {
        const { enforcers, known } = await svc.enforcers();
        const { page, nextCursor } = pageOfList(enforcers, (e) => e.enforcerId, query);
        return { enforcers: page, known, nextCursor };
      },
    }),
  ];
}
