import { wasm } from './cedarWasm.js';
import { EntityUid } from './EntityUid.js';
import type { Entity } from './EntityStore.js';
import type { ExtensionTypeName } from './ExtensionValue.js';
import { locateOffset } from './locateOffset.js';
import { PolicyError, PolicyErrorCode } from './PolicyError.js';

/** A schema type, resolved (common types expanded, names qualified). */
export type SchemaType =
  | { readonly kind: 'Long' | 'String' | 'Bool' | 'Unknown' }
  | { readonly kind: 'Entity'; readonly name: string }
  | { readonly kind: 'Extension'; readonly name: ExtensionTypeName }
  | { readonly kind: 'Set'; readonly element: SchemaType }
  | { readonly kind: 'Record'; readonly attributes: ReadonlyMap<string, SchemaType> };

type Json = Record<string, unknown>;
const UNKNOWN: SchemaType = { kind: 'Unknown' };
const EXTENSIONS: readonly string[] = ['ipaddr', 'decimal', 'datetime', 'duration'];

function qualify(ns: string, name: string): string {
  return ns === '' ? name : `${ns}::${name}`;
}

function builtin(name: string): SchemaType | undefined {
  if (name === 'Long' || name === 'String') return { kind: name };
  if (name === 'Bool' || name === 'Boolean') return { kind: 'Bool' };
  if (EXTENSIONS.includes(name)) return { kind: 'Extension', name: name as ExtensionTypeName };
  return undefined;
}

/**
 * What the data converters need from a Cedar schema: attribute, tag and context types (to read
 * the implicit JSON forms, e.g. `"1.2.3.4"` for an `ipaddr`) and the action hierarchy. Parsed by
 * cedar-wasm; the text is kept for the validator.
 */
export class CedarSchema {
  readonly #common = new Map<string, { ns: string; type: Json; resolved?: SchemaType }>();
  readonly #entities = new Map<string, { ns: string; json: Json }>();
  readonly #actions = new Map<string, { uid: EntityUid; ns: string; json: Json }>();

  private constructor(
    /** The schema as given (Cedar text or JSON), for cedar-wasm. */
    readonly source: string | Record<string, unknown>,
    json: Record<string, unknown>,
  ) {
    for (const [ns, nsDef] of Object.entries(json)) {
      const def = nsDef as Json;
      for (const [name, t] of Object.entries((def.commonTypes as Json | undefined) ?? {})) this.#common.set(qualify(ns, name), { ns, type: t as Json });
      for (const [name, e] of Object.entries((def.entityTypes as Json | undefined) ?? {})) this.#entities.set(qualify(ns, name), { ns, json: e as Json });
      for (const [name, a] of Object.entries((def.actions as Json | undefined) ?? {})) {
        const uid = new EntityUid(qualify(ns, 'Action'), name);
        this.#actions.set(uid.key, { uid, ns, json: a as Json });
      }
    }
  }

  /** Parses Cedar schema text or a JSON schema; throws `POLICY_SCHEMA` with line and column. */
  static parse(schema: string | Record<string, unknown>): CedarSchema {
    const answer = wasm.schemaToJson(schema as Parameters<typeof wasm.schemaToJson>[0]);
    if (answer.type === 'failure') {
      const first = answer.errors[0];
      const loc = first?.sourceLocations?.[0];
      const pos = loc && typeof schema === 'string' ? locateOffset(schema, loc.start) : undefined;
      throw new PolicyError(PolicyErrorCode.schema, `invalid Cedar schema: ${answer.errors.map((e) => e.message).join('; ')}`, {
        source: 'schema',
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        ...(first?.help ? { help: first.help } : {}),
      });
    }
    return new CedarSchema(schema, answer.json);
  }

  /** Fully qualified names of the declared entity types. */
  get entityTypes(): ReadonlySet<string> {
    return new Set(this.#entities.keys());
  }

  /** The attribute record type of an entity type (undefined for unknown or enumerated types). */
  entityShape(type: string): SchemaType | undefined {
    const e = this.#entities.get(type);
    if (!e || e.json.shape === undefined) return undefined;
    return this.resolve(e.json.shape as Json, e.ns);
  }

  entityTags(type: string): SchemaType | undefined {
    const e = this.#entities.get(type);
    if (!e || e.json.tags === undefined) return undefined;
    return this.resolve(e.json.tags as Json, e.ns);
  }

  /** The context record type of an action, if the schema gives one. */
  actionContext(action: EntityUid): SchemaType | undefined {
    const a = this.#actions.get(action.key);
    const ctx = (a?.json.appliesTo as Json | undefined)?.context;
    return a && ctx !== undefined ? this.resolve(ctx as Json, a.ns) : undefined;
  }

  /** The action entities the schema declares, with their `memberOf` parents (Cedar adds them to the entities). */
  actionEntities(): [EntityUid, Entity][] {
    return [...this.#actions.values()].map(({ uid, ns, json }) => {
      const memberOf = (json.memberOf as { id: string; type?: string }[] | undefined) ?? [];
      const parents = memberOf.map((m) => new EntityUid(m.type === undefined ? qualify(ns, 'Action') : m.type.includes('::') ? m.type : qualify(ns, m.type), m.id));
      return [uid, { attrs: {}, parents }];
    });
  }

  private resolveName(name: string, ns: string, depth: number): SchemaType {
    if (name.startsWith('__cedar::')) return builtin(name.slice(9)) ?? UNKNOWN;
    const candidates = name.includes('::') ? [name] : ns === '' ? [name] : [qualify(ns, name), name];
    for (const c of candidates) {
      const common = this.#common.get(c);
      if (common) {
        common.resolved ??= this.resolve(common.type, common.ns, depth + 1);
        return common.resolved;
      }
      if (this.#entities.has(c)) return { kind: 'Entity', name: c };
    }
    return builtin(name) ?? UNKNOWN;
  }

  private entityName(name: string, ns: string): string {
    if (name.includes('::') || ns === '') return name;
    return this.#entities.has(qualify(ns, name)) ? qualify(ns, name) : name;
  }

  private resolve(t: Json, ns: string, depth = 0): SchemaType {
    if (depth > 32) return UNKNOWN;
    switch (t.type) {
      case 'String':
      case 'Long':
        return { kind: t.type };
      case 'Boolean':
        return { kind: 'Bool' };
      case 'Set':
        return { kind: 'Set', element: this.resolve(t.element as Json, ns, depth + 1) };
      case 'Record': {
        const attributes = new Map<string, SchemaType>();
        for (const [k, v] of Object.entries((t.attributes as Json | undefined) ?? {})) attributes.set(k, this.resolve(v as Json, ns, depth + 1));
        return { kind: 'Record', attributes };
      }
      case 'Entity':
        return { kind: 'Entity', name: this.entityName(String(t.name), ns) };
      case 'Extension':
        return builtin(String(t.name).replace(/^__cedar::/, '')) ?? UNKNOWN;
      case 'EntityOrCommon':
        return this.resolveName(String(t.name), ns, depth);
      default:
        return typeof t.type === 'string' ? this.resolveName(t.type, ns, depth) : UNKNOWN;
    }
  }
}
