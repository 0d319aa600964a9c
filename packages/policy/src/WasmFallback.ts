import type { AuthorizationRequest } from './AuthorizationRequest.js';
import { toWasmJson, wasm } from './cedarWasm.js';
import { EntityUid } from './EntityUid.js';
import type { EntityStore } from './EntityStore.js';
import type { Effect } from './Expr.js';
import type { ParsedPolicy } from './parsePolicies.js';
import { PolicyError, PolicyErrorCode } from './PolicyError.js';
import { reachableEntitiesJson, recordToJson, uidToJson } from './toCedarJson.js';
import { wasmPolicySet, type WasmLink } from './validatePolicies.js';

/** What cedar-wasm said about the fallback policies for one request. */
export interface FallbackOutcome {
  readonly satisfied: readonly { readonly id: string; readonly effect: Effect }[];
  readonly errors: readonly { readonly id: string; readonly message: string }[];
  /** cedar-wasm refused the request as a whole: the caller must deny (fail closed). */
  readonly refused: boolean;
}

/** One preparsed cedar-wasm policy set: the fallback policies of one effect. */
interface PreparsedSet {
  readonly id: string;
  readonly effect: Effect;
  readonly ids: ReadonlySet<string>;
}

let nextSetId = 0;
/** Ids of preparsed sets whose `WasmFallback` was garbage-collected, free for reuse. */
const freeSetIds: string[] = [];
/**
 * cedar-wasm keeps every preparsed set (in wasm memory) until its id is preparsed again, and has no
 * call to drop one. Without this, each compilation with fallback policies would leak its sets for
 * the life of the process (a worker recompiles on every policy change). When a `WasmFallback` is
 * collected its ids are overwritten with an empty set, which frees the old one, and reused.
 */
const releasedSets = new FinalizationRegistry<readonly string[]>((ids) => {
  for (const id of ids) {
    try {
      // Never reuse an id whose old set could still be there.
      if (wasm.preparsePolicySet(id, { staticPolicies: {} }).type === 'success') freeSetIds.push(id);
    } catch {
      // cedar-wasm unusable: the id is simply not reused.
    }
  }
});

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Entity references written in policy JSON (scope and literals), so the reachable entities include them. */
function literalUids(est: unknown, out: EntityUid[]): void {
  if (Array.isArray(est)) {
    for (const x of est) literalUids(x, out);
  } else if (typeof est === 'object' && est !== null) {
    const o = est as Record<string, unknown>;
    if (typeof o.type === 'string' && typeof o.id === 'string') out.push(new EntityUid(o.type, o.id));
    for (const v of Object.values(o)) literalUids(v, out);
  }
}

/**
 * Runs the policies the compiler does not handle on cedar-wasm (preparsed once), so every
 * decision stays right. Permits and forbids are separate sets: Cedar's `reason` only lists the
 * determining effect, and we need the satisfied policies of both.
 */
export class WasmFallback {
  readonly #sets: PreparsedSet[] = [];
  readonly #literals: EntityUid[] = [];

  constructor(statics: readonly ParsedPolicy[], templates: readonly ParsedPolicy[], links: readonly WasmLink[], effectOf: (id: string) => Effect) {
    const taken: string[] = [];
    try {
      for (const effect of ['forbid', 'permit'] as const) {
        const s = statics.filter((p) => effectOf(p.id) === effect);
        const l = links.filter((x) => effectOf(x.newId) === effect);
        if (s.length === 0 && l.length === 0) continue;
        const used = templates.filter((t) => l.some((x) => x.templateId === t.id));
        const id = freeSetIds.pop() ?? `livescope-fallback-${nextSetId++}`;
        taken.push(id);
        const answer = wasm.preparsePolicySet(id, wasmPolicySet([...s, ...used], l));
        if (answer.type === 'failure') throw new PolicyError(PolicyErrorCode.engine, `cedar-wasm rejected the fallback policies: ${answer.errors.map((e) => e.message).join('; ')}`);
        this.#sets.push({ id, effect, ids: new Set([...s.map((p) => p.id), ...l.map((x) => x.newId)]) });
        for (const p of [...s, ...used]) literalUids(p.est, this.#literals);
        for (const x of l) this.#literals.push(...Object.values(x.values));
      }
    } catch (e) {
      // A failed preparse is side-effect free; an earlier one of this constructor is simply reused.
      freeSetIds.push(...taken);
      throw e;
    }
    if (taken.length > 0) releasedSets.register(this, taken);
  }

  /** @internal for tests: ids of collected sets waiting for reuse. */
  static get freeSetIds(): number {
    return freeSetIds.length;
  }

  get ids(): string[] {
    return this.#sets.flatMap((s) => [...s.ids]);
  }

  evaluate(request: AuthorizationRequest, entities: EntityStore): FallbackOutcome {
    const satisfied: { id: string; effect: Effect }[] = [];
    const errors: { id: string; message: string }[] = [];
    let refused = false;
    const refuse = (set: PreparsedSet, message: string): void => {
      // The request itself was refused (e.g. malformed or too deep data): every policy of the set is in error.
      for (const id of set.ids) errors.push({ id, message });
      refused = true;
    };
    let call: Omit<Parameters<typeof wasm.statefulIsAuthorized>[0], 'preparsedPolicySetId'>;
    try {
      const roots = [request.principal, request.action, request.resource, ...this.#literals];
      // Longs beyond 2^53 (bigints) become exact `__extn` escapes: see `longToWasmJson`.
      call = toWasmJson({
        principal: uidToJson(request.principal),
        action: uidToJson(request.action),
        resource: uidToJson(request.resource),
        context: recordToJson(request.context ?? {}),
        entities: reachableEntitiesJson(entities, roots, request.context),
        validateRequest: false,
      }) as unknown as typeof call;
    } catch (e) {
      for (const set of this.#sets) refuse(set, `request not converted for cedar-wasm: ${errorMessage(e)}`);
      return { satisfied, errors, refused };
    }
    for (const set of this.#sets) {
      let answer: ReturnType<typeof wasm.statefulIsAuthorized>;
      try {
        answer = wasm.statefulIsAuthorized({ ...call, preparsedPolicySetId: set.id });
      } catch (e) {
        // cedar-wasm throws instead of answering on some inputs (e.g. data nested beyond serde's
        // recursion limit of 128): that is a refusal too, and the decision fails closed.
        refuse(set, `cedar-wasm: ${errorMessage(e)}`);
        continue;
      }
      if (answer.type === 'failure') {
        refuse(set, answer.errors.map((e) => e.message).join('; '));
        continue;
      }
      for (const id of answer.response.diagnostics.reason) satisfied.push({ id, effect: set.effect });
      for (const e of answer.response.diagnostics.errors) errors.push({ id: e.policyId, message: e.error.message });
    }
    return { satisfied, errors, refused };
  }
}
