import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authentication of `livescope-ingest --listen`: a bearer token (`Authorization: Bearer <token>`)
 * and/or an HMAC-SHA256 of the exact request body with a shared secret
 * (`X-Livescope-Signature: sha256=<hex>`, the scheme of GitHub and most webhook senders). When both
 * are configured both must be present. Comparisons are constant-time.
 */
export interface WebhookAuthConfig {
  readonly token?: string;
  readonly hmacSecret?: string;
}

export const SIGNATURE_HEADER = 'x-livescope-signature';

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();
const same = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

export function hmacSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Why a request is not authenticated, or undefined when it is. */
export function webhookAuthFailure(config: WebhookAuthConfig, authorization: string | undefined, signature: string | undefined, body: Buffer): string | undefined {
  if (config.token !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    // Hash both sides first: the comparison takes the same time whatever the token's length.
    if (!m || !same(digest(m[1]!), digest(config.token))) return 'a valid bearer token is required (Authorization: Bearer <token>)';
  }
  if (config.hmacSecret !== undefined) {
    if (!signature || !/^sha256=[0-9a-fA-F]{64}$/.test(signature.trim())) return `an HMAC-SHA256 signature of the body is required (${SIGNATURE_HEADER}: sha256=<hex>)`;
    if (!same(digest(signature.trim().toLowerCase()), digest(hmacSignature(config.hmacSecret, body)))) return 'the body signature does not match';
  }
  return undefined;
}
