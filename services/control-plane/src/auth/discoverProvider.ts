import * as oidc from 'openid-client';
import { ControlPlaneError } from '../ControlPlaneError.js';
import type { OidcConfig } from '../config.js';

/** What the control plane reads from its OpenID provider's discovery document. */
export interface ProviderMetadata {
  readonly issuer: string;
  /** The provider's signing keys: API tokens are verified against them. */
  readonly jwksUri: string;
  readonly authorizationEndpoint: string | undefined;
  readonly tokenEndpoint: string | undefined;
  readonly deviceAuthorizationEndpoint: string | undefined;
}

const isLoopbackHttp = (u: URL): boolean => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/**
 * Reads the provider's discovery document (`/.well-known/openid-configuration`, with openid-client,
 * which checks that it names the configured issuer) and checks it offers what is configured: a
 * `jwks_uri` always; the authorization code grant with PKCE S256 for the console; the device
 * authorization endpoint for the CLI. Plain http is accepted only on a loopback address.
 */
export async function discoverProvider(o: OidcConfig, timeoutMs: number): Promise<ProviderMetadata> {
  const issuer = new URL(o.issuer);
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(issuer, o.consoleClientId ?? o.cliClientId ?? 'livescope', undefined, undefined, {
      timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
      ...(isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
  } catch (e) {
    throw new ControlPlaneError('CONFIG', `LIVESCOPE_API_OIDC_ISSUER: the discovery document of ${o.issuer} could not be read or does not name that issuer: ${(e as Error).message}`, { cause: e });
  }
  const m = config.serverMetadata();
  const fail = (what: string): never => {
    throw new ControlPlaneError('CONFIG', `LIVESCOPE_API_OIDC_ISSUER: ${o.issuer} ${what}`);
  };
  if (!m.jwks_uri) fail('publishes no jwks_uri: its tokens cannot be verified');
  const jwks = new URL(m.jwks_uri!);
  if (jwks.protocol !== 'https:' && !isLoopbackHttp(jwks)) fail(`publishes its keys over plain http (${m.jwks_uri})`);
  if (o.consoleClientId !== undefined) {
    if (!m.authorization_endpoint || !m.token_endpoint) fail('has no authorization or token endpoint, which the console signs in with');
    if (m.code_challenge_methods_supported && !m.code_challenge_methods_supported.includes('S256')) fail('does not support PKCE with S256, which the console requires');
  }
  if (o.cliClientId !== undefined && !m.device_authorization_endpoint) fail('has no device_authorization_endpoint, which `livescope login` needs (RFC 8628)');
  return { issuer: m.issuer, jwksUri: m.jwks_uri!, authorizationEndpoint: m.authorization_endpoint, tokenEndpoint: m.token_endpoint, deviceAuthorizationEndpoint: m.device_authorization_endpoint };
}
