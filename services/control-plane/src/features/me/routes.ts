import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the caller's route needs. */
export interface MeApi {
  whoami(p: Principal): z.input<typeof S.WhoAmI>;
}

/** Routes of the caller feature (GET /v1/me; tag `operations`). */
export function meRoutes(svc: MeApi): RouteDef[] {
  return [
    route({
      id: 'whoami',
      method: 'GET',
      path: '/v1/me',
      tag: 'operations',
      summary: 'The caller: token subject, roles, and what they allow',
      roles: access.read,
      success: { status: 200, description: 'The verified caller.', schema: S.WhoAmI },
      handler: ({ principal }) => Promise.resolve(svc.whoami(principal!)),
    }),
  ];
}
