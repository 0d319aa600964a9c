/**
 * Case-insensitive reads of vendor JSON. Log pipelines rename members on the way (Panther lowercases
 * `insertId` to `insertid` and writes `@type` as `at_sign_type`; Log Analytics exports use PascalCase
 * `ServicePrincipalName` where Event Hubs write `servicePrincipalName`): the adapters read a member
 * by any of its spellings.
 */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first member of `o` named like one of `names` (ASCII case-insensitive). */
export function member(o: unknown, ...names: string[]): unknown {
  if (!isObject(o)) return undefined;
  for (const n of names) if (n in o) return o[n];
  const wanted = names.map((n) => n.toLowerCase());
  for (const [k, v] of Object.entries(o)) if (wanted.includes(k.toLowerCase())) return v;
  return undefined;
}

/** A string member (empty strings are absent). */
export function text(o: unknown, ...names: string[]): string | undefined {
  const v = member(o, ...names);
  return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** A member that is an object. */
export function object(o: unknown, ...names: string[]): Json | undefined {
  const v = member(o, ...names);
  return isObject(v) ? v : undefined;
}

/** A member that is an array (of anything). */
export function array(o: unknown, ...names: string[]): unknown[] {
  const v = member(o, ...names);
  return Array.isArray(v) ? v : [];
}

/** A nested path, each step case-insensitive: `path(o, 'protoPayload', 'authenticationInfo')`. */
export function path(o: unknown, ...steps: string[]): unknown {
  let cur: unknown = o;
  for (const s of steps) cur = member(cur, s);
  return cur;
}
