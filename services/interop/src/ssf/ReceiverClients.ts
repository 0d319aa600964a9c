import { createHash, timingSafeEqual } from 'node:crypto';
import type { ReceiverClient } from '../config.js';
import type { OAuthTokenIssuer } from './OAuthTokenIssuer.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Who a stream belongs to and the audience of its SETs. */
export interface StreamClient {
  readonly clientId: string;
  readonly audience: string;
}

/**
 * Authenticates receivers at the stream-management and poll endpoints: a configured static bearer
 * token (compared in constant time per configured client), or an OAuth 2.0 access token the
 * transmitter's token endpoint issued (client-credentials grant). Tokens in query strings are not accepted.
 */
export class ReceiverClients {
  private readonly clients: readonly { client: ReceiverClient; digest: Buffer }[];

  constructor(
    clients: readonly ReceiverClient[],
    private readonly oauth?: OAuthTokenIssuer,
  ) {
    this.clients = clients.map((client) => ({ client, digest: digest(client.token) }));
  }

  /** The client of an `Authorization: Bearer <token>` header, or undefined. */
  async authenticate(authorization: string | undefined): Promise<StreamClient | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const d = digest(m[1]!);
    let found: StreamClient | undefined;
    for (const c of this.clients) if (timingSafeEqual(c.digest, d)) found = c.client;
    if (found) return found;
    const viaOAuth = this.oauth && m[1]!.split('.').length === 3 ? await this.oauth.verify(m[1]!) : undefined;
    return viaOAuth ? { clientId: viaOAuth.clientId, audience: viaOAuth.audience } : undefined;
  }
}

/** Constant-time comparison of two header values. */
export function sameSecret(a: string | undefined, b: string): boolean {
  return a !== undefined && timingSafeEqual(digest(a), digest(b));
}
