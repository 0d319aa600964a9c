import * as oidc from 'openid-client';
import type { SignInConfig } from './types';

/**
 * Single sign-on of the console: the OpenID Connect authorization code grant with PKCE (S256), with
 * openid-client, through the provider the control plane names (`GET /auth/oidc`). The code
 * verifier and state live in this tab's sessionStorage between the redirect to the provider and
 * the callback (`/console/callback`), and are deleted on the way back.
 */
const PENDING_KEY = 'livescope.console.sso';
export const CALLBACK_PATH = '/console/callback';

interface Pending {
  readonly verifier: string;
  readonly state: string;
  readonly issuer: string;
}

const isLoopbackHttp = (u: URL): boolean => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/** How this control plane signs in; undefined without single sign-on for the console. */
export async function signInConfig(): Promise<SignInConfig | undefined> {
  const res = await fetch('/auth/oidc', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) return undefined;
  const c = (await res.json()) as SignInConfig;
  return c.consoleClientId ? c : undefined;
}

async function providerOf(c: SignInConfig): Promise<oidc.Configuration> {
  const issuer = new URL(c.issuer);
  return oidc.discovery(issuer, c.consoleClientId!, undefined, oidc.None(), isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined);
}

const redirectUri = (): string => new URL(CALLBACK_PATH, window.location.origin).toString();

/** Leaves for the provider's sign-in page. */
export async function startSignIn(c: SignInConfig): Promise<void> {
  const config = await providerOf(c);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const pending: Pending = { verifier, state, issuer: c.issuer };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri(),
    scope: c.scopes,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(c.resource ? { resource: c.resource } : {}),
  });
  window.location.assign(url.toString());
}

/** Whether this page is the provider sending the user back. */
export const isCallback = (): boolean => window.location.pathname === CALLBACK_PATH;

/**
 * Exchanges the code of the callback (checking the state against the one sent, with the PKCE
 * verifier) for the access token; the pending sign-in is forgotten whatever happens.
 */
export async function finishSignIn(c: SignInConfig): Promise<string> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!raw) throw new Error('no sign-in was started in this tab');
  const pending = JSON.parse(raw) as Pending;
  if (pending.issuer !== c.issuer) throw new Error('the sign-in was started with another identity provider');
  const config = await providerOf(c);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(window.location.href), { pkceCodeVerifier: pending.verifier, expectedState: pending.state });
  return tokens.access_token;
}
