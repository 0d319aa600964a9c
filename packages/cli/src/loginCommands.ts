import type { Command } from 'commander';
import type * as S from '@livescope/control-plane/api-types';
import * as oidc from 'openid-client';
import { ApiClient, ApiError } from './ApiClient.js';
import { UsageError } from './parse.js';
import { removeToken, saveToken, tokenPath } from './tokenStore.js';

/** What the sign-in commands need from `runCli`. */
export interface LoginCommandContext {
  /** The API base URL the command talks to (`--api`, `LIVESCOPE_API_URL`, default). */
  readonly apiUrl: () => string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch: typeof fetch;
  readonly print: (json: unknown, human: () => string) => void;
  readonly stderr: (text: string) => void;
  readonly signal: AbortSignal;
}

const isLoopbackHttp = (u: URL): boolean => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/**
 * `livescope login`: the OAuth 2.0 device authorization grant (RFC 8628, with openid-client)
 * through the OpenID provider the API names (`GET /auth/oidc`). It prints where to sign in and
 * the code, polls while the user signs in on any device, checks the token with the API (`/v1/me`)
 * and stores it 0600 under the user's configuration directory; `livescope logout` deletes it.
 */
export function registerLoginCommands(program: Command, c: LoginCommandContext): void {
  program
    .command('login')
    .description('sign in through the single sign-on provider (device authorization grant): open the printed URL on any device, then the token is stored for later commands')
    .action(async () => {
      const api = c.apiUrl();
      const setup = await new ApiClient(api, undefined, c.fetch).get<S.SignInConfig>('/auth/oidc').catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) throw new UsageError(`${api} has no single sign-on configured: use --token or LIVESCOPE_TOKEN`);
        throw e;
      });
      if (!setup.cliClientId) throw new UsageError(`${api} names no client for the command line (LIVESCOPE_API_OIDC_CLI_CLIENT_ID): use --token or LIVESCOPE_TOKEN`);
      const issuer = new URL(setup.issuer);
      const config = await oidc.discovery(issuer, setup.cliClientId, undefined, oidc.None(), {
        [oidc.customFetch]: c.fetch,
        ...(isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      const device = await oidc.initiateDeviceAuthorization(config, { scope: setup.scopes, ...(setup.resource ? { resource: setup.resource } : {}) });
      c.stderr(`To sign in, open ${device.verification_uri} and enter the code ${device.user_code}\n`);
      if (device.verification_uri_complete) c.stderr(`or open ${device.verification_uri_complete}\n`);
      c.stderr('waiting for the sign-in…\n');
      let tokens: Awaited<ReturnType<typeof oidc.pollDeviceAuthorizationGrant>>;
      try {
        tokens = await oidc.pollDeviceAuthorizationGrant(config, device, undefined, { signal: c.signal });
      } catch (e) {
        const err = e as { error?: string; name?: string };
        if (err.error === 'access_denied') throw new ApiError(401, 'ACCESS_DENIED', 'the sign-in was refused at the identity provider');
        if (err.error === 'expired_token') throw new ApiError(401, 'EXPIRED', 'the code expired before the sign-in: run livescope login again');
        throw e;
      }
      // The API must accept it before it is kept: a token for another audience or without roles is said so now.
      const who = await new ApiClient(api, tokens.access_token, c.fetch).get<S.WhoAmI>('/v1/me');
      const expiresIn = tokens.expiresIn();
      const path = tokenPath(c.env);
      saveToken(path, { api, issuer: setup.issuer, accessToken: tokens.access_token, expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000, sub: who.sub });
      c.print({ sub: who.sub, roles: who.roles, api, file: path, ...(expiresIn !== undefined ? { expiresInSeconds: expiresIn } : {}) }, () => `signed in to ${api} as ${who.sub} (${who.roles.join(', ') || 'no roles'}); token stored in ${path}${expiresIn !== undefined ? `, valid ${Math.round(expiresIn / 60)} min` : ''}\n`);
    });

  program
    .command('logout')
    .description('forget the token stored by livescope login')
    .action(() => {
      const path = tokenPath(c.env);
      const removed = removeToken(path);
      c.print({ removed, file: path }, () => (removed ? `signed out: ${path} deleted\n` : `not signed in (no ${path})\n`));
    });
}
