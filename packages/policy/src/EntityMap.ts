import type { Entity, EntityStore } from './EntityStore.js';
import type { EntityUid } from './EntityUid.js';

/**
 * A mutable `EntityStore` keyed by `EntityUid.key`. `in` walks the parents through it; with deep
 * hierarchies queried many times, wrap it in a store that implements `ancestorKeys`.
 */
export class EntityMap implements EntityStore {
  private readonly byKey = new Map<string, Entity>();
  private readonly uids = new Map<string, EntityUid>();

  constructor(entries: Iterable<readonly [EntityUid, Entity]> = []) {
    for (const [u, e] of entries) this.set(u, e);
  }

  set(uid: EntityUid, entity: Entity): this {
    this.byKey.set(uid.key, entity);
    this.uids.set(uid.key, uid);
    return this;
  }

  delete(uid: EntityUid): boolean {
    this.uids.delete(uid.key);
    return this.byKey.delete(uid.key);
  }

  get(uid: EntityUid): Entity | undefined {
    return this.byKey.get(uid.key);
  }

  has(uid: EntityUid): boolean {
    return this.byKey.has(uid.key);
  }

  get size(): number {
    return this.byKey.size;
  }

  *entries(): IterableIterator<[EntityUid, Entity]> {
    for (const [key, entity] of this.byKey) yield [this.uids.get(key) as EntityUid, entity];
  }
}
