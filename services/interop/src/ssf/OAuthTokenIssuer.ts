import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SetSigner } from '@livescope/caep';
import { createLocalJWKSet, jwtVerify } from 'jose';

export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly audience: string;
}

export interface TokenResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * The transmitter's OAuth 2.0 authorization server for receivers (RFC 6749 §4.4, client-credentials
 * grant; SSF 1.0 `authorization_schemes` `urn:ietf:rfc:6749`). Clients authenticate with HTTP Basic
 * (`client_secret_basic`) or form parameters (`client_secret_post`); secrets are compared in constant
 * time. Access tokens are JWTs (RFC 9068, `typ: at+jwt`) signed with the transmitter's SET key, so every
 * instance sharing the key verifies them without shared state; they can never pass as SETs (whose
 * `typ` is `secevent+jwt`).
 */
export class OAuthTokenIssuer {
  private readonly clients: ReadonlyMap<string, OAuthClient & { secretDigest: Buffer }>;

  constructor(
    clients: readonly OAuthClient[],
    private readonly signer: SetSigner,
    private readonly issuer: () => string,
    private readonly ttlSec: number,
    private readonly now: () => number = Date.now,
  ) {
    this.clients = new Map(clients.map((c) => [c.clientId, { ...c, secretDigest: digest(c.clientSecret) }]));
  }

  get audience(): string {
    return `${this.issuer()}/ssf`;
  }

  /** RFC 8414 authorization server metadata (`/.well-known/oauth-authorization-server`). */
  metadata(): Record<string, unknown> {
    const base = this.issuer();
    return { issuer: base, token_endpoint: `${base}/ssf/oauth/token`, grant_types_supported: ['client_credentials'], token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'], jwks_uri: `${base}/ssf/jwks.json` };
  }

  /** Handles a token request (form parameters already parsed). */
  async token(authorization: string | undefined, form: Readonly<Record<string, string>>): Promise<TokenResponse> {
    const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
    const error = (status: number, code: string, description: string, basic = false): TokenResponse => ({ status, body: { error: code, error_description: description }, headers: { ...noStore, ...(basic ? { 'www-authenticate': 'Basic realm="ssf"' } : {}) } });
    let id: string | undefined;
    let secret: string | undefined;
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return error(401, 'invalid_client', 'malformed Basic credentials', true);
      // RFC 6749 §2.3.1: client id and secret are form-urlencoded inside the Basic credentials.
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      if (form.client_secret !== undefined) return error(400, 'invalid_request', 'use one client authentication method, not two');
    } else {
      id = form.client_id;
      secret = form.client_secret;
    }
    if (form.grant_type !== 'client_credentials') return error(400, form.grant_type ? 'unsupported_grant_type' : 'invalid_request', form.grant_type ? `grant_type ${form.grant_type} is not supported (client_credentials only)` : 'grant_type is required');
    const client = id ? this.clients.get(id) : undefined;
    const ok = secret !== undefined && timingSafeEqual(digest(secret), client?.secretDigest ?? digest(`${randomUUID()}-no-such-client`));
    if (!client || !ok) return error(401, 'invalid_client', 'client authentication failed', !!basic);
    if (form.scope !== undefined && form.scope !== '' && !form.scope.split(' ').every((s) => s === 'ssf' || s === 'ssf.manage' || s === 'ssf.poll')) return error(400, 'invalid_scope', 'scopes: ssf, ssf.manage, ssf.poll');
    const iat = Math.floor(this.now() / 1000);
    const token = await this.signer.signToken({ iss: this.issuer(), sub: client.clientId, client_id: client.clientId, aud: this.audience, iat, exp: iat + this.ttlSec, jti: randomUUID(), scope: form.scope || 'ssf' }, ACCESS_TOKEN_TYPE);
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: this.ttlSec, scope: form.scope || 'ssf' }, headers: noStore };
  }

  /** The client an access token was issued to, or undefined when it does not verify (forged, expired, another issuer). */
  async verify(token: string): Promise<OAuthClient | undefined> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.signer.jwks()), { issuer: this.issuer(), audience: this.audience, typ: ACCESS_TOKEN_TYPE, currentDate: new Date(this.now()), clockTolerance: 30 });
      return typeof payload.client_id === 'string' ? this.clients.get(payload.client_id) : undefined;
    } catch {
      return undefined;
    }
  }
}
