import { evaluationError } from './PolicyError.js';

/**
 * Cedar `Long` is a signed 64-bit integer. In JavaScript a Long is a `number` when it is a safe
 * integer and a `bigint` only beyond ±(2^53 - 1). Every producer in this package keeps that
 * normal form, so equal Longs are `===` and `Set.has` works on them.
 */
export type Long = number | bigint;

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

export function isLong(v: unknown): v is Long {
  return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX);
}

/** Normal form of an exact integer, or undefined when it does not fit in 64 bits. */
export function normalizeLong(v: bigint): Long | undefined {
  if (v < I64_MIN || v > I64_MAX) return undefined;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Normal form of a number or bigint given by a caller; throws on non-integers. */
export function toLong(v: number | bigint): Long {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v === 0 ? 0 : v;
    if (Number.isInteger(v)) {
      const n = normalizeLong(BigInt(v));
      if (n !== undefined) return n;
    }
    throw new RangeError(`${v} is not a 64-bit integer`);
  }
  const n = normalizeLong(v);
  if (n === undefined) throw new RangeError(`${v} does not fit in 64 bits`);
  return n;
}

function overflow(op: string, a: Long, b?: Long): never {
  throw evaluationError(
    b === undefined ? `integer overflow while attempting to ${op} the value \`${a}\`` : `integer overflow while attempting to ${op} the values \`${a}\` and \`${b}\``,
  );
}

export function addLong(a: Long, b: Long): Long {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normalizeLong(BigInt(a) + BigInt(b)) ?? overflow('add', a, b);
}

export function subLong(a: Long, b: Long): Long {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normalizeLong(BigInt(a) - BigInt(b)) ?? overflow('subtract', a, b);
}

export function mulLong(a: Long, b: Long): Long {
  if (typeof a === 'number' && typeof b === 'number') {
    // The product of two integers whose exact value is a safe integer is computed exactly.
    const r = a * b;
    if (Number.isSafeInteger(r)) return r === 0 ? 0 : r;
  }
  return normalizeLong(BigInt(a) * BigInt(b)) ?? overflow('multiply', a, b);
}

export function negLong(a: Long): Long {
  if (typeof a === 'number') return a === 0 ? 0 : -a;
  return normalizeLong(-a) ?? overflow('negate', a);
}

/** Rust-style integer division (truncates toward zero) of a Long by a positive safe divisor. */
export function truncDivLong(a: Long, d: number): Long {
  if (typeof a === 'number') {
    // Exact: the remainder is exact for integers, so the division is of an exact multiple.
    const q = (a - (a % d)) / d;
    return q === 0 ? 0 : q;
  }
  return normalizeLong(a / BigInt(d)) as Long;
}
