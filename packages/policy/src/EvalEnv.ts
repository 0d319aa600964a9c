import type { CedarRecord } from './CedarValue.js';
import type { EntityUid } from './EntityUid.js';
import { entityIn, type Entity, type EntityStore } from './EntityStore.js';

const NO_ANCESTORS: readonly EntityUid[] = [];

/**
 * What compiled closures read for one request: the request, the entities, and a per-request memo
 * of the three request entities and their ancestors (several policies ask for the same ones).
 */
export class EvalEnv {
  // Plain (not #private) fields, all set in the constructor: one stable object shape, cheap to build.
  private principalEntity: Entity | null | undefined = undefined;
  private actionEntity: Entity | null | undefined = undefined;
  private resourceEntity: Entity | null | undefined = undefined;
  private principalAnc: readonly EntityUid[] | undefined = undefined;
  private actionAnc: readonly EntityUid[] | undefined = undefined;
  private resourceAnc: readonly EntityUid[] | undefined = undefined;

  constructor(
    readonly principal: EntityUid,
    readonly action: EntityUid,
    readonly resource: EntityUid,
    readonly context: CedarRecord,
    readonly entities: EntityStore,
  ) {}

  /** The entity of `uid`, or undefined when the store does not have it. */
  entity(uid: EntityUid): Entity | undefined {
    if (uid === this.principal) return (this.principalEntity ??= this.entities.get(uid) ?? null) ?? undefined;
    if (uid === this.action) return (this.actionEntity ??= this.entities.get(uid) ?? null) ?? undefined;
    if (uid === this.resource) return (this.resourceEntity ??= this.entities.get(uid) ?? null) ?? undefined;
    return this.entities.get(uid);
  }

  /** Cedar `in` on two entities (see `entityIn`), memoised for the request's own entities. */
  in(uid: EntityUid, target: EntityUid): boolean {
    if (uid.id === target.id && uid.type === target.type) return true;
    if (this.entities.ancestorKeys) return entityIn(this.entities, uid, target);
    let anc: readonly EntityUid[];
    if (uid === this.action) anc = this.actionAnc ??= this.ancestors(uid);
    else if (uid === this.principal) anc = this.principalAnc ??= this.ancestors(uid);
    else if (uid === this.resource) anc = this.resourceAnc ??= this.ancestors(uid);
    else return entityIn(this.entities, uid, target);
    for (let i = 0; i < anc.length; i++) {
      const a = anc[i] as EntityUid;
      if (a.id === target.id && a.type === target.type) return true;
    }
    return false;
  }

  /** Transitive ancestors; for a one-level hierarchy (the usual case) the parents array itself. */
  private ancestors(uid: EntityUid): readonly EntityUid[] {
    const direct = this.entity(uid)?.parents;
    if (!direct || direct.length === 0) return NO_ANCESTORS;
    let deeper = false;
    for (let i = 0; i < direct.length && !deeper; i++) deeper = (this.entities.get(direct[i] as EntityUid)?.parents.length ?? 0) > 0;
    if (!deeper) return direct;
    const seen = new Set<string>([uid.key]);
    const out: EntityUid[] = [];
    let frontier: readonly EntityUid[] = direct;
    while (frontier.length > 0) {
      const next: EntityUid[] = [];
      for (const p of frontier) {
        if (seen.has(p.key)) continue;
        seen.add(p.key);
        out.push(p);
        const e = this.entities.get(p);
        if (e) for (const q of e.parents) if (!seen.has(q.key)) next.push(q);
      }
      frontier = next;
    }
    return out;
  }
}
