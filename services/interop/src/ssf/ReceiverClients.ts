import { createHash, timingSafeEqual } from 'node:crypto';
import type { ReceiverClient } from '../config.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Looks receivers up by their bearer token, in constant time per configured client. */
export class ReceiverClients {
  private readonly clients: readonly { client: ReceiverClient; digest: Buffer }[];

  constructor(clients: readonly ReceiverClient[]) {
    this.clients = clients.map((client) => ({ client, digest: digest(client.token) }));
  }

  /** The client of an `Authorization: Bearer <token>` header, or undefined. Tokens in query strings are not accepted. */
  authenticate(authorization: string | undefined): ReceiverClient | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const d = digest(m[1]!);
    let found: ReceiverClient | undefined;
    for (const c of this.clients) if (timingSafeEqual(c.digest, d)) found = c.client;
    return found;
  }
}

/** Constant-time comparison of two header values. */
export function sameSecret(a: string | undefined, b: string): boolean {
  return a !== undefined && timingSafeEqual(digest(a), digest(b));
}
