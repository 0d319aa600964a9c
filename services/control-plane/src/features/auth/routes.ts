import type { z } from 'zod';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the sign-in route needs: the single sign-on setup, if any. */
export interface AuthApi {
  signInConfig(): z.input<typeof S.SignInConfig> | undefined;
}

/** Routes of the sign-in feature (public: a client reads them before it has a token). */
export function authRoutes(svc: AuthApi): RouteDef[] {
  return [
    route({
      id: 'signInConfig',
      method: 'GET',
      path: '/auth/oidc',
      tag: 'operations',
      summary: 'How to sign in: the OpenID provider and the client ids of the console and the CLI (404 without single sign-on)',
      roles: 'public',
      success: { status: 200, description: 'The single sign-on setup.', schema: S.SignInConfig },
      errors: [404],
      handler: () => {
        const c = svc.signInConfig();
        if (!c) return Promise.reject(new ControlPlaneError('NOT_FOUND', 'single sign-on is not configured (LIVESCOPE_API_OIDC_ISSUER): use a bearer token'));
        return Promise.resolve(c);
      },
    }),
  ];
}
