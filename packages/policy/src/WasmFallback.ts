import type { AuthorizationRequest } from './AuthorizationRequest.js';
import { wasm, withExactJson } from './cedarWasm.js';
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

let nextSetId = 0;

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
  readonly #sets: { id: string; effect: Effect; ids: ReadonlySet<string> }[] = [];
  readonly #literals: EntityUid[] = [];

  constructor(statics: readonly ParsedPolicy[], templates: readonly ParsedPolicy[], links: readonly WasmLink[], effectOf: (id: string) => Effect) {
    for (const effect of ['forbid', 'permit'] as const) {
      const s = statics.filter((p) => effectOf(p.id) === effect);
      const l = links.filter((x) => effectOf(x.newId) === effect);
      if (s.length === 0 && l.length === 0) continue;
      const used = templates.filter((t) => l.some((x) => x.templateId === t.id));
      const id = `livescope-fallback-${nextSetId++}-${effect}`;
      const answer = wasm.preparsePolicySet(id, wasmPolicySet([...s, ...used], l));
      if (answer.type === 'failure') throw new PolicyError(PolicyErrorCode.engine, `cedar-wasm rejected the fallback policies: ${answer.errors.map((e) => e.message).join('; ')}`);
      this.#sets.push({ id, effect, ids: new Set([...s.map((p) => p.id), ...l.map((x) => x.newId)]) });
      for (const p of [...s, ...used]) literalUids(p.est, this.#literals);
      for (const x of l) this.#literals.push(...Object.values(x.values));
    }
  }

  get ids(): string[] {
    return this.#sets.flatMap((s) => [...s.ids]);
  }

  evaluate(request: AuthorizationRequest, entities: EntityStore): FallbackOutcome {
    const roots = [request.principal, request.action, request.resource, ...this.#literals];
    const call = {
      principal: uidToJson(request.principal),
      action: uidToJson(request.action),
      resource: uidToJson(request.resource),
      context: recordToJson(request.context ?? {}),
      entities: reachableEntitiesJson(entities, roots, request.context),
      validateRequest: false,
    };
    const satisfied: { id: string; effect: Effect }[] = [];
    const errors: { id: string; message: string }[] = [];
    let refused = false;
    for (const set of this.#sets) {
      // bigints in `call` are written exactly by withExactJson; the wasm typings only know numbers.
      const stateful = { ...call, preparsedPolicySetId: set.id } as unknown as Parameters<typeof wasm.statefulIsAuthorized>[0];
      const answer = withExactJson(() => wasm.statefulIsAuthorized(stateful));
      if (answer.type === 'failure') {
        // The request itself was refused (e.g. malformed data): every policy of the set is in error.
        const message = answer.errors.map((e) => e.message).join('; ');
        for (const id of set.ids) errors.push({ id, message });
        refused = true;
        continue;
      }
      for (const id of answer.response.diagnostics.reason) satisfied.push({ id, effect: set.effect });
      for (const e of answer.response.diagnostics.errors) errors.push({ id: e.policyId, message: e.error.message });
    }
    return { satisfied, errors, refused };
  }
}
