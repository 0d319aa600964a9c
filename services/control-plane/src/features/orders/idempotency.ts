import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The `Idempotency-Key` request header (IETF draft "The Idempotency-Key HTTP Header Field"): 1-255
 * visible ASCII characters, bare or as a quoted string (`"…"`, the structured-field form of the
 * draft), which is unquoted here.
 */
export const IdempotencyKey = z
  .string()
  .regex(/^(?:"[\x21\x23-\x7e]{1,255}"|[\x21\x23-\x7e]{1,255})$/, 'must be 1-255 visible ASCII characters without double quotes, optionally in double quotes')
  .transform((k) => (k.startsWith('"') ? k.slice(1, -1) : k));

/** Which request a key was given to, and by whom: keys of different subjects or operations never meet. */
export interface IdempotencyScope {
  readonly subject: string;
  /** `issueOrder`, `liftOrder`. */
  readonly operation: string;
  readonly key: string;
}

/** A claimed key, as `cp_idempotency` holds it. */
export interface IdempotencyRecord extends IdempotencyScope {
  /** `requestFingerprint` of the request that claimed it. */
  readonly fingerprint: string;
  readonly orderId: string;
  /** The order.issued or order.lifted event that request published. */
  readonly eventId: string;
  /** The answer once known (its publication confirmed), null while it may still land. */
  readonly answer: { readonly status: number; readonly body: unknown } | null;
}

/** JSON with object keys sorted at every level (undefined fields dropped), so equal requests read the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What makes two requests "the same" for a key: the operation and the validated request (path
 * parameters and body, after defaults), whatever the order of fields or the spacing of the JSON.
 */
export function requestFingerprint(operation: string, request: unknown): string {
  return createHash('sha256').update(stableJson({ operation, request })).digest('hex');
}
