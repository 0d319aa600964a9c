import { allRoles, type Role } from './roles.js';

/**
 * Where a token's roles come from: a claim (a dotted path into the token for nested claims, e.g.
 * `realm_access.roles`) holding a string or an array of strings, and optionally a mapping of its
 * values (an identity provider's group names) to livescope roles. Without a mapping the values
 * are role names themselves. Values that map to nothing are ignored: a group unknown to livescope
 * grants nothing.
 */
export interface RoleSource {
  readonly claim: string;
  /** Claim value → the livescope roles it grants; undefined: values are role names. */
  readonly mapping?: ReadonlyMap<string, readonly Role[]> | undefined;
}

export const DEFAULT_ROLE_SOURCE: RoleSource = { claim: 'roles' };

/** The claim's value at its dotted path: `undefined` when absent. */
function claimAt(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The claimed values of the role claim, or `invalid` when the claim is there but neither a string
 * nor an array of strings (a token built wrong: refused rather than read as no roles).
 */
export function claimedValues(payload: Readonly<Record<string, unknown>>, source: RoleSource): readonly string[] | 'invalid' {
  const v = claimAt(payload, source.claim);
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  return 'invalid';
}

/** The livescope roles the claimed values grant. */
export function rolesOf(values: readonly string[], source: RoleSource): Role[] {
  const known = new Set<string>(allRoles);
  if (!source.mapping) return values.filter((r): r is Role => known.has(r));
  return [...new Set(values.flatMap((v) => source.mapping!.get(v) ?? []))];
}

/**
 * Parses `LIVESCOPE_API_ROLE_MAPPING`: a JSON object of claim value → a role or an array of roles.
 * Throws with a message naming the bad entry (an unknown role is a typo that would grant nothing).
 */
export function parseRoleMapping(json: string): Map<string, Role[]> {
  const parsed = JSON.parse(json) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object of claim value → role or [roles]');
  const known = new Set<string>(allRoles);
  const out = new Map<string, Role[]>();
  for (const [value, roles] of Object.entries(parsed as Record<string, unknown>)) {
    const list = typeof roles === 'string' ? [roles] : roles;
    if (!Array.isArray(list) || list.length === 0) throw new Error(`${value}: expected a role or a non-empty array of roles`);
    for (const r of list) if (typeof r !== 'string' || !known.has(r)) throw new Error(`${value}: unknown role ${JSON.stringify(r)} (roles: ${allRoles.join(', ')})`);
    out.set(value, list as Role[]);
  }
  return out;
}
