import { EntityUid } from './EntityUid.js';
import { ExtensionValue } from './ExtensionValue.js';
import type { Long } from './Long.js';

/**
 * A Cedar value as native JavaScript, for the compiled evaluator's fast path:
 * - Bool → `boolean`; String → `string`;
 * - Long → `number` when a safe integer, `bigint` beyond (normal form, see `Long`);
 * - entity reference → `EntityUid`;
 * - Set → an array or a `Set` (duplicates are harmless);
 * - Record → a plain object (own properties only are attributes);
 * - extension values → `IpAddr`, `Decimal`, `Datetime`, `Duration`.
 */
export type CedarValue = boolean | Long | string | EntityUid | CedarSet | CedarRecord | ExtensionValue;
export type CedarSet = readonly CedarValue[] | ReadonlySet<CedarValue>;
export interface CedarRecord {
  readonly [attr: string]: CedarValue;
}

export type CedarTypeName = 'bool' | 'long' | 'string' | 'entity' | 'set' | 'record' | 'ipaddr' | 'decimal' | 'datetime' | 'duration';

export function isCedarSet(v: unknown): v is CedarSet {
  return Array.isArray(v) || v instanceof Set;
}

/** A record is a plain object (prototype `Object.prototype` or null); arrays, Sets and classes are not. */
export function isCedarRecord(v: unknown): v is CedarRecord {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function cedarTypeOf(v: CedarValue): CedarTypeName {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'long';
  if (typeof v === 'string') return 'string';
  if (v instanceof EntityUid) return 'entity';
  if (v instanceof ExtensionValue) return v.extensionType;
  if (isCedarSet(v)) return 'set';
  return 'record';
}

/** Elements of a set value, as an array (no copy for arrays). */
export function setElements(s: CedarSet): readonly CedarValue[] {
  return Array.isArray(s) ? (s as readonly CedarValue[]) : [...(s as ReadonlySet<CedarValue>)];
}

export function setSize(s: CedarSet): number {
  return Array.isArray(s) ? s.length : (s as ReadonlySet<CedarValue>).size;
}

/** Cedar `==`: structural, never an error; values of different types are unequal. */
export function valueEquals(a: CedarValue, b: CedarValue): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== 'object') {
    // A caller may hand a bigint where the normal form is a number; compare exactly.
    if ((ta === 'bigint' || ta === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return a == b;
    return false;
  }
  if (typeof b !== 'object') return false;
  if (a instanceof EntityUid) return b instanceof EntityUid && a.type === b.type && a.id === b.id;
  if (a instanceof ExtensionValue) return b instanceof ExtensionValue && a.equals(b);
  if (isCedarSet(a)) return isCedarSet(b) && setEquals(a, b);
  if (b instanceof EntityUid || b instanceof ExtensionValue || isCedarSet(b)) return false;
  return recordEquals(a as CedarRecord, b);
}

function recordEquals(a: CedarRecord, b: CedarRecord): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !valueEquals(a[k] as CedarValue, b[k] as CedarValue)) return false;
  }
  return true;
}

/** Set equality: every element of each is in the other (duplicates do not count). */
export function setEquals(a: CedarSet, b: CedarSet): boolean {
  for (const x of a) if (!setContains(b, x)) return false;
  for (const x of b) if (!setContains(a, x)) return false;
  return true;
}

/** Cedar `contains`: whether `set` holds a value equal to `x`. */
export function setContains(set: CedarSet, x: CedarValue): boolean {
  if (typeof x !== 'object') {
    // Primitive needles: SameValueZero is Cedar equality for normalized Longs, strings and bools.
    if (Array.isArray(set)) {
      if ((set as readonly CedarValue[]).includes(x)) return true;
    } else if ((set as ReadonlySet<CedarValue>).has(x)) {
      return true;
    }
    if (typeof x === 'boolean' || typeof x === 'string') return false;
  }
  for (const y of set) if (valueEquals(x, y)) return true;
  return false;
}
