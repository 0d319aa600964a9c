import { z } from 'zod';
import { component } from '../../http/schemas.js';

/** The answer of GET /auth/oidc: how the console and the CLI sign in (nothing secret: both are public clients). */
export const SignInConfig = component(
  'SignInConfig',
  z.object({
    issuer: z.string().describe('The OpenID provider (its discovery document is `<issuer>/.well-known/openid-configuration`).'),
    consoleClientId: z.string().nullable().describe('Client id of the web console (authorization code with PKCE); null: the console takes a pasted token.'),
    cliClientId: z.string().nullable().describe('Client id of the command line (device authorization grant, RFC 8628); null: `livescope login` is unavailable.'),
    scopes: z.string().describe('Space-separated scopes to ask for.'),
    resource: z.string().nullable().describe('Resource indicator (RFC 8707) to ask tokens for; null: none.'),
  }),
);
