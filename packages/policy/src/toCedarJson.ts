import { isCedarSet, type CedarRecord, type CedarValue } from './CedarValue.js';
import { EntityUid } from './EntityUid.js';
import type { Entity, EntityStore } from './EntityStore.js';
import { ExtensionValue } from './ExtensionValue.js';

/** Cedar JSON with exact integers: `bigint` stands for a Long beyond 2^53 (see `stringifyExact`). */
export type CedarJsonValue = boolean | number | bigint | string | CedarJsonValue[] | { [key: string]: CedarJsonValue };

export interface CedarJsonEntity {
  uid: { type: string; id: string };
  attrs: Record<string, CedarJsonValue>;
  parents: { type: string; id: string }[];
  tags?: Record<string, CedarJsonValue>;
}

export function uidToJson(u: EntityUid): { type: string; id: string } {
  return { type: u.type, id: u.id };
}

/** A value in Cedar's explicit JSON form (`__entity`, `__extn`), readable without a schema. */
export function valueToJson(v: CedarValue): CedarJsonValue {
  if (typeof v !== 'object') return v;
  if (v instanceof EntityUid) return { __entity: uidToJson(v) };
  if (v instanceof ExtensionValue) return v.toCedarJson() as CedarJsonValue;
  if (isCedarSet(v)) return [...v].map(valueToJson);
  return recordToJson(v);
}

export function recordToJson(r: CedarRecord): Record<string, CedarJsonValue> {
  const out: Record<string, CedarJsonValue> = {};
  for (const k of Object.keys(r)) {
    // defineProperty: a `__proto__` attribute must stay data.
    Object.defineProperty(out, k, { value: valueToJson(r[k] as CedarValue), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function entityToJson(u: EntityUid, e: Entity): CedarJsonEntity {
  const json: CedarJsonEntity = { uid: uidToJson(u), attrs: recordToJson(e.attrs), parents: e.parents.map(uidToJson) };
  if (e.tags) json.tags = recordToJson(e.tags);
  return json;
}

function collectUids(v: CedarValue, out: EntityUid[]): void {
  if (typeof v !== 'object') return;
  if (v instanceof EntityUid) out.push(v);
  else if (v instanceof ExtensionValue) return;
  else if (isCedarSet(v)) for (const x of v) collectUids(x, out);
  else for (const k of Object.keys(v)) collectUids((v)[k] as CedarValue, out);
}

/**
 * Every entity an evaluation could reach from `roots` and `context`: through attribute values, tag
 * values and parents, transitively. It is exactly what cedar-wasm needs for a request when the
 * store cannot be enumerated.
 */
export function reachableEntitiesJson(store: EntityStore, roots: readonly EntityUid[], context: CedarRecord | undefined): CedarJsonEntity[] {
  const queue: EntityUid[] = [...roots];
  if (context) collectUids(context, queue);
  const seen = new Set<string>();
  const out: CedarJsonEntity[] = [];
  while (queue.length > 0) {
    const u = queue.pop() as EntityUid;
    if (seen.has(u.key)) continue;
    seen.add(u.key);
    const e = store.get(u);
    if (!e) continue;
    out.push(entityToJson(u, e));
    queue.push(...e.parents);
    collectUids(e.attrs, queue);
    if (e.tags) collectUids(e.tags, queue);
  }
  return out;
}
