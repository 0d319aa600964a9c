import type { CedarRecord } from './CedarValue.js';
import type { EntityUid } from './EntityUid.js';

/** One entity: attributes, direct parents (the hierarchy used by `in`) and tags. */
export interface Entity {
  readonly attrs: CedarRecord;
  /** Direct parents; `in` follows them transitively through the store. */
  readonly parents: readonly EntityUid[];
  readonly tags?: CedarRecord;
}

/**
 * Where the evaluator looks entities up. Implement it over whatever the caller already holds (the
 * scope engine builds one principal and a few resources per evaluation); `EntityMap` is a ready one.
 */
export interface EntityStore {
  get(uid: EntityUid): Entity | undefined;
  /**
   * Optional fast path for `in`: the keys (`EntityUid.key`) of every transitive ancestor of `uid`, or
   * undefined to let the evaluator walk `parents`.
   */
  ancestorKeys?(uid: EntityUid): ReadonlySet<string> | undefined;
}

/**
 * Cedar `in` on entities: `uid == target`, or `target` is a transitive ancestor of `uid` through
 * entities present in the store (a parent missing from the store is still an ancestor, with no
 * ancestors of its own — Cedar's transitive closure of the given data).
 */
export function entityIn(store: EntityStore, uid: EntityUid, target: EntityUid): boolean {
  if (uid.type === target.type && uid.id === target.id) return true;
  const keys = store.ancestorKeys?.(uid);
  if (keys) return keys.has(target.key);
  const entity = store.get(uid);
  if (!entity) return false;
  const direct = entity.parents;
  const n = direct.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const p = direct[i] as EntityUid;
    if (p.id === target.id && p.type === target.type) return true;
  }
  // Most hierarchies are one level deep (identity → role, action → group): settle that without allocating.
  let deeper = false;
  for (let i = 0; i < n && !deeper; i++) deeper = (store.get(direct[i] as EntityUid)?.parents.length ?? 0) > 0;
  if (!deeper) return false;
  // Deeper levels: breadth-first with a visited set, since data may hold cycles.
  const seen = new Set<string>([uid.key]);
  let frontier: readonly EntityUid[] = direct;
  while (frontier.length > 0) {
    const next: EntityUid[] = [];
    for (const p of frontier) {
      if (seen.has(p.key)) continue;
      seen.add(p.key);
      const e = store.get(p);
      if (!e) continue;
      for (const q of e.parents) {
        if (q.type === target.type && q.id === target.id) return true;
        if (!seen.has(q.key)) next.push(q);
      }
    }
    frontier = next;
  }
  return false;
}
