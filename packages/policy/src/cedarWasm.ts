/**
 * The one door to cedar-wasm (the Node.js build, which loads its .wasm synchronously at import).
 * cedar-wasm stays the reference: the parser, the validator, the fallback evaluator and the oracle.
 */
import * as glue from '@cedar-policy/cedar-wasm/nodejs';

export type {
  AuthorizationAnswer,
  DetailedError,
  Expr as EstExpr,
  PolicyJson as EstPolicy,
  SchemaJson,
  ValidationAnswer,
} from '@cedar-policy/cedar-wasm/nodejs';

/**
 * cedar-wasm's functions, each behind a `Proxy` so that no optimised JavaScript function ever has a
 * cedar-wasm call inlined into it.
 *
 * Why (issue 13): V8 11.3 (Node 20) and 12.4 (Node 22) inline a JS→Wasm call into the optimised code of its caller
 * (`--turbo-inline-js-wasm-calls`, on by default), also for wasm-bindgen's `externref` signatures.
 * Every cedar-wasm call runs JavaScript while it is on the stack (the glue's imports
 * `JSON.stringify` the argument and `JSON.parse` the answer), and `JSON.parse` building an answer
 * of a new shape generalises the field type of a map (e.g. `errors[i].error`) that the caller's
 * optimised code depends on. That marks the caller for lazy deoptimisation while the inlined wasm
 * call is still running; on return V8 11.3 and 12.4 must rebuild a "JS to Wasm builtin continuation" frame
 * for an `externref` result, which its deoptimiser does not handle: `Fatal error ... unreachable
 * code` in `Deoptimizer::DoComputeBuiltinContinuation`, SIGTRAP, exit code 133. V8 13 (Node 24)
 * handles the frame; `--no-turbo-inline-js-wasm-calls` avoids it too.
 *
 * TurboFan inlines neither a call to a `Proxy` nor anything behind one, so the JS→Wasm call can
 * only be inlined into the glue's own one-line functions, whose optimised code depends on nothing
 * a call can change (the frozen wasm exports object). The proxy costs well under a microsecond
 * against the tens of microseconds of a cedar-wasm call.
 */
export const wasm: typeof glue = Object.freeze(
  Object.fromEntries(
    Object.entries(glue)
      .filter(([name]) => name !== 'default')
      .map(([name, value]) => [name, typeof value === 'function' ? new Proxy(value, {}) : value]),
  ),
) as typeof glue;

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
 * A Cedar Long in the Cedar JSON form cedar-wasm reads exactly whatever its size: the extension
 * call `duration("<n>ms").toMilliseconds()` as an `__extn` escape. cedar-wasm's glue writes its
 * argument with the global `JSON.stringify` (a `bigint` throws there, a `number` beyond 2^53 is
 * rounded, and Node 20 has no `JSON.rawJSON`); Cedar 4 has no `__expr` escape, but a restricted
 * expression may call any extension function, and a duration holds any i64 of milliseconds. A
 * value outside i64 is refused by cedar-wasm, as the literal would be.
 */
export function longToWasmJson(n: bigint): { __extn: { fn: 'toMilliseconds'; args: [{ __extn: { fn: 'duration'; arg: string } }] } } {
  return { __extn: { fn: 'toMilliseconds', args: [{ __extn: { fn: 'duration', arg: `${n}ms` } }] } };
}

/**
 * JSON-like data (plain objects, arrays, primitives) for a cedar-wasm call: every `bigint` replaced
 * by `longToWasmJson`. Returns `value` itself when it holds no `bigint`, else a copy (inputs are
 * never changed). Nothing global is touched, so no other code ever sees a changed `JSON`.
 */
export function toWasmJson<T>(value: T): T {
  return convert(value) as T;
}

function convert(v: unknown): unknown {
  if (typeof v === 'bigint') return longToWasmJson(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const c = convert(x);
      if (c !== x) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    const x = o[k];
    const c = convert(x);
    if (c === x) continue;
    if (!out) {
      out = {};
      // defineProperty: a `__proto__` key must stay data.
      for (const j of Object.keys(o)) Object.defineProperty(out, j, { value: o[j], enumerable: true, writable: true, configurable: true });
    }
    Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
  }
  return out ?? o;
}
