/**
 * The one door to cedar-wasm (the Node.js build, which loads its .wasm synchronously at import).
 * cedar-wasm stays the reference: the parser, the validator, the fallback evaluator and the oracle.
 */
import * as wasm from '@cedar-policy/cedar-wasm/nodejs';

export { wasm };
export type {
  AuthorizationAnswer,
  DetailedError,
  Expr as EstExpr,
  PolicyJson as EstPolicy,
  SchemaJson,
  ValidationAnswer,
} from '@cedar-policy/cedar-wasm/nodejs';

const originalStringify = JSON.stringify;
// A per-process nonce makes the bigint marker impossible to forge from data the caller does not control.
const nonce = `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
const marker = `\u0000bigint-${nonce}:`;
const markerPattern = new RegExp(`"\\\\u0000bigint-${nonce}:(-?[0-9]+)"`, 'g');

/** `JSON.stringify` that writes `bigint`s as exact integer literals (Cedar Longs beyond 2^53). */
export function stringifyExact(value: unknown): string {
  let sawBigInt = false;
  const text = originalStringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    sawBigInt = true;
    return `${marker}${v.toString()}`;
  });
  return sawBigInt ? text.replace(markerPattern, '$1') : text;
}

/**
 * Runs a cedar-wasm call whose input may hold `bigint`s. The wasm glue serialises its argument with
 * the global `JSON.stringify` (and Node 20 has no `JSON.rawJSON` without a flag), so for the duration
 * of this synchronous call that function writes bigints exactly. Nothing else runs in between.
 */
export function withExactJson<T>(call: () => T): T {
  JSON.stringify = ((value: unknown, replacer?: unknown, space?: unknown) =>
    replacer === undefined && space === undefined
      ? stringifyExact(value)
      : originalStringify(value, replacer as Parameters<typeof originalStringify>[1], space as string)) as typeof JSON.stringify;
  try {
    return call();
  } finally {
    JSON.stringify = originalStringify;
  }
}
