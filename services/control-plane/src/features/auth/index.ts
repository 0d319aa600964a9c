/** Sign-in (GET /auth/oidc): how the console and the CLI sign in through the OpenID provider. */
export { authRoutes, type AuthApi } from './routes.js';
