import type { AuthorizationRequest } from './AuthorizationRequest.js';
import type { CedarRecord, CedarValue } from './CedarValue.js';
import type { CedarSchema, SchemaType } from './CedarSchema.js';
import { EntityUid } from './EntityUid.js';
import { EntityMap } from './EntityMap.js';
import { callExtensionFunction } from './extensionFunctions.js';
import { toLong } from './Long.js';
import { isEvaluationError, PolicyError, PolicyErrorCode } from './PolicyError.js';

type Json = unknown;
type JsonObject = Record<string, Json>;

const CONSTRUCTOR: Record<string, string> = { ipaddr: 'ip', decimal: 'decimal', datetime: 'datetime', duration: 'duration' };

function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string, cause?: unknown): never {
  throw new PolicyError(PolicyErrorCode.data, message, {}, cause === undefined ? {} : { cause });
}

/** An entity reference: `{ "type", "id" }` or `{ "__entity": { "type", "id" } }`. */
export function uidFromJson(j: Json): EntityUid {
  const inner = isObject(j) && isObject(j.__entity) ? j.__entity : j;
  if (!isObject(inner) || typeof inner.type !== 'string' || typeof inner.id !== 'string') return bad(`not an entity reference: ${safeText(j)}`);
  return new EntityUid(inner.type, inner.id);
}

function safeText(j: Json): string {
  try {
    return (JSON.stringify(j, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(j)).slice(0, 120);
  } catch {
    return String(j);
  }
}

function extension(fn: string, args: readonly Json[]): CedarValue {
  try {
    return callExtensionFunction(
      fn,
      args.map((a) => valueFromJson(a)),
    );
  } catch (e) {
    // The message is read now; the shared evaluation error itself is not kept as the cause.
    return bad(`invalid extension value ${fn}(${args.map(safeText).join(', ')}): ${(e as Error).message}`, isEvaluationError(e) ? undefined : e);
  }
}

/**
 * A Cedar JSON value as a native value. With a schema type, the implicit forms Cedar accepts are
 * read too: `{ "type", "id" }` for an entity, and a bare string or `{ "fn", "arg" }` for an
 * extension value. Integers must be exact (`bigint` beyond 2^53, see `parseExactJson`).
 */
export function valueFromJson(j: Json, type?: SchemaType): CedarValue {
  if (type !== undefined) {
    switch (type.kind) {
      case 'Entity':
        if (isObject(j) && (isObject(j.__entity) || (typeof j.type === 'string' && typeof j.id === 'string' && Object.keys(j).length === 2))) return uidFromJson(j);
        break;
      case 'Extension': {
        const ctor = CONSTRUCTOR[type.name] as string;
        if (typeof j === 'string') return extension(ctor, [j]);
        if (isObject(j) && !isObject(j.__extn) && typeof j.fn === 'string') return extension(j.fn, Array.isArray(j.args) ? j.args : [j.arg]);
        break;
      }
      case 'Set':
        if (Array.isArray(j)) return j.map((x) => valueFromJson(x, type.element));
        break;
      case 'Record':
        if (isObject(j) && j.__entity === undefined && j.__extn === undefined) return recordFromJson(j, type);
        break;
      case 'Long':
      case 'String':
      case 'Bool':
      case 'Unknown':
        break;
    }
  }
  if (typeof j === 'boolean' || typeof j === 'string') return j;
  if (typeof j === 'number' || typeof j === 'bigint') {
    try {
      return toLong(j);
    } catch (e) {
      return bad(`not a 64-bit integer: ${String(j)}`, e);
    }
  }
  if (Array.isArray(j)) return j.map((x) => valueFromJson(x));
  if (!isObject(j)) return bad(`not a Cedar value: ${safeText(j)}`);
  if (j.__entity !== undefined) return uidFromJson(j);
  if (j.__extn !== undefined) {
    const x = j.__extn;
    if (!isObject(x) || typeof x.fn !== 'string') return bad(`invalid __extn: ${safeText(j)}`);
    return extension(x.fn, Array.isArray(x.args) ? x.args : [x.arg]);
  }
  return recordFromJson(j);
}

/** A JSON object as a record; attribute types come from `type` when it is a record type. */
export function recordFromJson(j: Json, type?: SchemaType): CedarRecord {
  if (!isObject(j)) return bad(`not a record: ${safeText(j)}`);
  const attrs = type?.kind === 'Record' ? type.attributes : undefined;
  // A null prototype keeps an attribute named `__proto__` (or `constructor`) plain data.
  const out = Object.create(null) as Record<string, CedarValue>;
  for (const k of Object.keys(j)) out[k] = valueFromJson(j[k], attrs?.get(k));
  return out;
}

export interface FromJsonOptions {
  /** Reads the implicit forms and adds the schema's action entities. */
  readonly schema?: CedarSchema;
}

/**
 * Cedar JSON entities (`[{ uid, attrs, parents, tags? }]`) as an `EntityMap`. With a schema, the
 * actions it declares are added with their `memberOf` parents, as Cedar does.
 */
export function entitiesFromJson(j: Json, options: FromJsonOptions = {}): EntityMap {
  if (!Array.isArray(j)) return bad('entities must be a JSON array');
  const map = new EntityMap();
  const schema = options.schema;
  if (schema) for (const [u, e] of schema.actionEntities()) map.set(u, e);
  for (const item of j) {
    if (!isObject(item)) return bad(`not an entity: ${safeText(item)}`);
    const u = uidFromJson(item.uid);
    const parents = Array.isArray(item.parents) ? item.parents.map(uidFromJson) : item.parents === undefined ? [] : bad(`parents of ${u.toString()} must be an array`);
    const attrs = recordFromJson(item.attrs ?? {}, schema?.entityShape(u.type));
    const tagType = schema?.entityTags(u.type);
    const tags = item.tags === undefined ? undefined : recordFromJson(item.tags, tagType ? { kind: 'Record', attributes: new TagTypes(tagType) } : undefined);
    map.set(u, tags === undefined ? { attrs, parents } : { attrs, parents, tags });
  }
  assertAcyclic(map);
  return map;
}

/** Cedar refuses an entity hierarchy with a cycle; so do we, to decide the same. */
function assertAcyclic(map: EntityMap): void {
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  const visit = (u: EntityUid): void => {
    const s = state.get(u.key);
    if (s === 2) return;
    if (s === 1) bad(`the entity hierarchy has a cycle through ${u.toString()}`);
    state.set(u.key, 1);
    for (const p of map.get(u)?.parents ?? []) visit(p);
    state.set(u.key, 2);
  };
  for (const [u] of map.entries()) visit(u);
}

/** Every tag has the same declared type: a map view answering it for any key. */
class TagTypes extends Map<string, SchemaType> {
  constructor(private readonly type: SchemaType) {
    super();
  }
  override get(): SchemaType {
    return this.type;
  }
}

/** A Cedar JSON context; with a schema, typed by the action's declared context. */
export function contextFromJson(j: Json, options: FromJsonOptions & { readonly action?: EntityUid } = {}): CedarRecord {
  const type = options.schema && options.action ? options.schema.actionContext(options.action) : undefined;
  return recordFromJson(j ?? {}, type);
}

/** A request in the corpus/cedar-wasm JSON shape, as native values. */
export function requestFromJson(j: { principal: Json; action: Json; resource: Json; context?: Json }, options: FromJsonOptions = {}): Required<AuthorizationRequest> {
  const action = uidFromJson(j.action);
  return {
    principal: uidFromJson(j.principal),
    action,
    resource: uidFromJson(j.resource),
    context: contextFromJson(j.context ?? {}, { ...options, action }),
  };
}
