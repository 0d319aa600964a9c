/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

/**
 * Key names that name a secret, compared lowercase without `-` and `_`, at the end of the key
 * (`password`, `dbPassword`, `x-api-key`, `client_secret`, `accessToken`, `set-cookie`,
 * `privateKey`, `proxy-authorization` …), plurals included. Identifiers and names of secrets
 * (`tokenId`, `secretPath`, `keyId`) do not end so and stay readable.
 */
const SECRET_KEY = /(?:password|passwd|passphrase|secret|token|authorization|cookie|privatekey|signingkey|secretkey|apikey|credential|jwt|sessionkey|pgurl|connectionstring)s?$/;

/** Whether a property of that name holds a secret (at any depth of a logged object). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** Nesting beyond which a logged value is cut (pino itself prints at most a few levels). */
const MAX_DEPTH = 64;

/**
 * A copy of `value` as it will be serialised, with the value of every secret-naming key replaced
 * by `[redacted]` at any depth: nested objects and arrays, errors (their enumerable fields, such
 * as an HTTP client's `config.headers.authorization`), objects with `toJSON`.
 * Objects and arrays without a secret are returned as they are (no copy); cycles become
 * `[Circular]`. The caller's objects are never modified.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, new Set(), 0) as T;
}

function walk(v: unknown, ancestors: Set<object>, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (ancestors.has(v)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  if (v instanceof Date || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  ancestors.add(v);
  try {
    if (Array.isArray(v)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        const r = walk(item, ancestors, depth + 1);
        if (r !== item) (out ??= v.slice())[i] = r;
      }
      return out ?? v;
    }
    if (v instanceof Error) return walkError(v, ancestors, depth);
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') {
      const j: unknown = json.call(v);
      return j === v ? v : walk(j, ancestors, depth);
    }
    let out: Record<string, unknown> | undefined;
    const src = v as Record<string, unknown>;
    for (const key of Object.keys(src)) {
      const item = src[key];
      const r = isSecretKey(key) && item !== undefined && item !== null ? REDACTED : walk(item, ancestors, depth + 1);
      if (r !== item) (out ??= { ...src })[key] = r;
    }
    return out ?? v;
  } finally {
    ancestors.delete(v);
  }
}

/**
 * An error with its secrets redacted: the error itself when none of its enumerable fields (what
 * pino's `err` serializer copies: an HTTP client's `config`, `request`, `response` …) nor those of
 * the errors it aggregates holds one, else a copy of the same class (so the serializer still writes
 * its type, message and stack) with those fields redacted.
 */
function walkError(e: Error, ancestors: Set<object>, depth: number): Error {
  const fields = e as unknown as Record<string, unknown>;
  const changed = new Map<string, unknown>();
  for (const key of Object.keys(e)) {
    const item = fields[key];
    const r = isSecretKey(key) && item !== undefined && item !== null ? REDACTED : walk(item, ancestors, depth + 1);
    if (r !== item) changed.set(key, r);
  }
  if (!Object.prototype.propertyIsEnumerable.call(e, 'errors') && Array.isArray(fields.errors)) {
    const r = walk(fields.errors, ancestors, depth + 1);
    if (r !== fields.errors) changed.set('errors', r);
  }
  if (changed.size === 0) return e;
  const copy = Object.create(Object.getPrototypeOf(e) as object, Object.getOwnPropertyDescriptors(e)) as Error;
  // From V8 12.x (Node 22, 24) `stack` is an own accessor that reads an internal slot of the
  // original error, so a copied accessor answers undefined: the copy holds the text instead.
  Object.defineProperty(copy, 'stack', { value: e.stack, enumerable: false, writable: true, configurable: true });
  for (const [key, value] of changed) Object.defineProperty(copy, key, { value, enumerable: Object.prototype.propertyIsEnumerable.call(e, key), writable: true, configurable: true });
  return copy;
}
