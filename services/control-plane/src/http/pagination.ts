import { z } from 'zod';
import { ControlPlaneError } from '../ControlPlaneError.js';

/**
 * The one pagination of every list endpoint: `limit` and `cursor` in the query, `nextCursor` in the
 * answer (null on the last page). A cursor is opaque to clients: they pass back what they were given.
 */
export function pageQuery(defaultLimit: number, maxLimit: number) {
  return z.object({
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit).describe(`Items per page, 1-${maxLimit} (default ${defaultLimit}).`),
    cursor: z.string().min(1).max(512).optional().describe('Opaque page cursor: the `nextCursor` of the previous page.'),
  });
}

export const NextCursor = z.string().nullable().describe('Cursor of the next page (pass it as `cursor`); null on the last page.');

/** A cursor that carries a key: base64url of its JSON. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key of a cursor made by `encodeCursor`, if `valid` accepts it; else 400 naming `query.cursor`. */
export function decodeCursor<K extends readonly (string | number)[]>(text: string, valid: (key: readonly unknown[]) => key is K): K {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (Array.isArray(key) && valid(key)) return key;
  throw new ControlPlaneError('INVALID_REQUEST', 'query.cursor: not a cursor returned by this API', { paths: ['query.cursor'] });
}

/** A key of one string (an id). */
export const isStringKey = (k: readonly unknown[]): k is [string] => k.length === 1 && typeof k[0] === 'string';
/** A key of one safe integer (a sequence number). */
export const isIntegerKey = (k: readonly unknown[]): k is [number] => k.length === 1 && Number.isSafeInteger(k[0]);

/**
 * A page of a list held in full (enforcement points, orders in force: small), in the order of its
 * string key; the cursor is the key of the last item given, so a page stays right when items come or go.
 */
export function pageOfList<T>(items: readonly T[], keyOf: (item: T) => string, q: { readonly limit: number; readonly cursor?: string | undefined }): { page: T[]; nextCursor: string | null } {
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isStringKey)[0];
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((x) => keyOf(x) > after);
  const page = rest.slice(0, q.limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rest.length > q.limit && last !== undefined ? encodeCursor([keyOf(last)]) : null };
}
