import { analyzePolicy, opaqueInputs, unionInputs, type PolicyInputs } from './analyzePolicy.js';
import type { AuthorizationRequest, AuthorizationResult } from './AuthorizationRequest.js';
import type { CedarRecord } from './CedarValue.js';
import { CedarSchema } from './CedarSchema.js';
import { EvalEnv } from './EvalEnv.js';
import { compilePolicy, type PolicyTest } from './compilePolicy.js';
import { DAY_MS, Datetime } from './Datetime.js';
import { EntityUid } from './EntityUid.js';
import type { EntityStore } from './EntityStore.js';
import type { ActionConstraint, Effect, PolicyIr, ScopeConstraint } from './Expr.js';
import { linkTemplate } from './linkTemplate.js';
import { assertUniqueIds, parseStaticPolicies, parseTemplates, type ParsedPolicy, type PolicySource } from './parsePolicies.js';
import { horizonCandidates, planHorizon, type HorizonPlan } from './planHorizon.js';
import { PolicyError, PolicyErrorCode } from './PolicyError.js';
import { validatePolicies, type WasmLink } from './validatePolicies.js';
import { WasmFallback } from './WasmFallback.js';

/** A link of a template: fills its `?principal` / `?resource` slots under a new policy id. */
export interface TemplateLink {
  readonly templateId: string;
  readonly newId: string;
  readonly values: Readonly<Partial<Record<'?principal' | '?resource', EntityUid | { readonly type: string; readonly id: string }>>>;
}

export interface CompileOptions {
  /**
   * Cedar policy text. One string: ids `policy0`, `policy1`… in text order (as cedar-wasm assigns);
   * or `{ id, text }` entries, where a text holding one policy gives it `id`, several give `id#0`, `id#1`…
   */
  readonly policies: string | readonly PolicySource[];
  /** Templates (policies with `?principal` / `?resource` slots), one per entry, by id. */
  readonly templates?: Readonly<Record<string, string>> | readonly PolicySource[];
  readonly links?: readonly TemplateLink[];
  /**
   * Cedar schema (text, JSON or parsed). When given, the policies must pass cedar-wasm's strict
   * validator (else `POLICY_VALIDATION`), and `schema` is kept for the data converters.
   */
  readonly schema?: string | Record<string, unknown> | CedarSchema;
  /**
   * Which policies run on cedar-wasm. Default `auto`: only those the compiler cannot handle.
   * `all`, or a list of policy ids, forces them there (to test the fallback path).
   */
  readonly fallback?: 'auto' | 'all' | readonly string[];
}

/** One policy of a compiled set, for indexing, display and incremental recompute. */
export interface PolicyInfo {
  readonly id: string;
  readonly effect: Effect;
  /** `static`, or `linked` (from `templateId`). */
  readonly kind: 'static' | 'linked';
  readonly templateId?: string;
  /** True when evaluated by compiled closures; false when by cedar-wasm (see `fallbackReason`). */
  readonly compiled: boolean;
  readonly fallbackReason?: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** Scope constraints (after linking), e.g. to find the identities a changed policy can match. Undefined only for a fallback policy the compiler could not read. */
  readonly scope?: { readonly principal: ScopeConstraint; readonly action: ActionConstraint; readonly resource: ScopeConstraint };
  /** The policy's own text (for a link, its template's), e.g. to fingerprint it. */
  readonly text: string;
  /** Where the text came from (`policies`, an entry id or `templates:<id>`) and its first line there. */
  readonly source: string;
  readonly line: number;
  readonly inputs: PolicyInputs;
}

interface Runnable {
  readonly id: string;
  readonly forbid: boolean;
  readonly test: PolicyTest;
  /** `EntityUid.key` of the action when the scope says `action == …`: such policies are indexed by it. */
  readonly actionKey: string | undefined;
}

const EMPTY_CONTEXT: CedarRecord = Object.freeze({});
/** Bounds the horizon search; past it the answer is the last instant checked (still safe). */
const MAX_HORIZON_STEPS = 4096;
/** JavaScript dates end at ±8.64e15 ms; instants beyond are not considered. */
const MAX_INSTANT = 8.64e15;

function toUid(u: EntityUid | { readonly type: string; readonly id: string }): EntityUid {
  return u instanceof EntityUid ? u : new EntityUid(u.type, u.id);
}

function normalizeSources(t: CompileOptions['templates']): PolicySource[] {
  if (t === undefined) return [];
  if (Array.isArray(t)) return [...(t as readonly PolicySource[])];
  return Object.entries(t as Record<string, string>).map(([id, text]) => ({ id, text }));
}

function errorMessage(e: unknown): string {
  // Read at once: the shared evaluation error's message is the latest one.
  return e instanceof Error ? e.message : String(e);
}

/**
 * A Cedar policy set compiled to JavaScript closures. Decisions equal cedar-wasm's (decision,
 * reason and errors); policies the compiler does not handle run on cedar-wasm.
 */
export class CompiledPolicySet {
  readonly policies: readonly PolicyInfo[];
  /** Ids of the policies evaluated by cedar-wasm. */
  readonly fallbackPolicyIds: readonly string[];
  readonly analysis: { readonly perPolicy: ReadonlyMap<string, PolicyInputs>; readonly union: PolicyInputs };
  readonly schema: CedarSchema | undefined;
  /** Policies that apply to any action (or an action hierarchy), forbids first. */
  readonly #general: readonly Runnable[];
  /** Policies scoped to one action (`action == A`), by the action's key: only those of the request's action run. */
  readonly #byAction: ReadonlyMap<string, readonly Runnable[]>;
  readonly #fallback: WasmFallback | undefined;
  readonly #plans: readonly HorizonPlan[];
  readonly #opaqueTime: boolean;

  /** @internal use `compilePolicySet` */
  constructor(parts: {
    policies: PolicyInfo[];
    runnable: Runnable[];
    fallback: WasmFallback | undefined;
    plans: HorizonPlan[];
    opaqueTime: boolean;
    schema: CedarSchema | undefined;
  }) {
    this.policies = parts.policies;
    this.fallbackPolicyIds = parts.policies.filter((p) => !p.compiled).map((p) => p.id);
    this.analysis = { perPolicy: new Map(parts.policies.map((p) => [p.id, p.inputs])), union: unionInputs(parts.policies.map((p) => p.inputs)) };
    this.schema = parts.schema;
    this.#general = parts.runnable.filter((r) => r.actionKey === undefined);
    const byAction = new Map<string, Runnable[]>();
    for (const r of parts.runnable) if (r.actionKey !== undefined) byAction.set(r.actionKey, [...(byAction.get(r.actionKey) ?? []), r]);
    this.#byAction = byAction;
    this.#fallback = parts.fallback;
    this.#plans = parts.plans;
    this.#opaqueTime = parts.opaqueTime;
  }

  /**
   * Cedar authorization of one request over native values: default deny, forbid overrides
   * permit, a policy whose evaluation errors is skipped and listed in `errors`.
   */
  isAuthorized(request: AuthorizationRequest, entities: EntityStore): AuthorizationResult {
    const env = new EvalEnv(request.principal, request.action, request.resource, request.context ?? EMPTY_CONTEXT, entities);
    let forbids: string[] | undefined;
    let permits: string[] | undefined;
    let errors: string[] | undefined;
    let messages: string[] | undefined;
    const scoped = this.#byAction.size > 0 ? this.#byAction.get(request.action.key) : undefined;
    for (let pass = 0; pass < 2; pass++) {
      const runnable = pass === 0 ? this.#general : scoped;
      if (runnable === undefined) continue;
      for (let i = 0; i < runnable.length; i++) {
        const p = runnable[i] as Runnable;
        let satisfied: boolean;
        try {
          satisfied = p.test(env);
        } catch (e) {
          // Cedar skips a policy whose evaluation fails; any exception here counts as such a failure.
          (errors ??= []).push(p.id);
          (messages ??= []).push(errorMessage(e));
          continue;
        }
        if (satisfied) {
          if (p.forbid) (forbids ??= []).push(p.id);
          else (permits ??= []).push(p.id);
        }
      }
    }
    let refused = false;
    if (this.#fallback) {
      const out = this.#fallback.evaluate(request, entities);
      for (const s of out.satisfied) {
        if (s.effect === 'forbid') (forbids ??= []).push(s.id);
        else (permits ??= []).push(s.id);
      }
      for (const e of out.errors) {
        (errors ??= []).push(e.id);
        (messages ??= []).push(e.message);
      }
      refused = out.refused;
    }
    const errs = errors ?? [];
    const msgs = messages ?? [];
    if (forbids) return { decision: 'deny', reason: forbids, errors: errs, errorMessages: msgs };
    // Fail closed when cedar-wasm refused the request: a skipped forbid must not turn into an allow.
    if (permits && !refused) return { decision: 'allow', reason: permits, errors: errs, errorMessages: msgs };
    return { decision: 'deny', reason: [], errors: errs, errorMessages: msgs };
  }

  /**
   * The validity horizon of this request's decision: the earliest instant after `nowMs` (epoch ms)
   * at which the decision could change with everything but the time fixed, or `null` for never.
   * The request's `context.now` is set to `nowMs` (and to each later instant tried). Conservative:
   * when a policy uses `context.now` in a form not analysed, the answer is `nowMs + 1`.
   */
  horizon(request: AuthorizationRequest, entities: EntityStore, nowMs: number): number | null {
    if (this.#plans.length === 0) return null;
    if (this.#opaqueTime) return nowMs + 1;
    const at = (t: number): AuthorizationRequest => ({ ...request, context: { ...(request.context ?? EMPTY_CONTEXT), now: Datetime.fromEpochMs(t) } });
    const base = at(nowMs);
    const env = new EvalEnv(base.principal, base.action, base.resource, base.context ?? EMPTY_CONTEXT, entities);
    const { absolute, daily } = horizonCandidates(this.#plans, env);
    const decision = this.isAuthorized(base, entities).decision;
    const abs = absolute.filter((t) => t > nowMs && t <= MAX_INSTANT);
    const nextPeriodic = (after: number): number => {
      if (daily.length === 0) return Infinity;
      const day = Math.floor(after / DAY_MS);
      for (let d = day; d <= day + 1; d++) for (const p of daily) if (d * DAY_MS + p > after) return d * DAY_MS + p;
      return Infinity;
    };
    let ai = 0;
    let cur = nowMs;
    // Between two absolute candidates the decision is a periodic function of the time of day (its
    // change points are the daily candidates), so one full day without a change proves the stretch.
    let stretchStart = nowMs;
    for (let steps = 0; steps < MAX_HORIZON_STEPS; steps++) {
      const nextAbs = ai < abs.length ? (abs[ai] as number) : Infinity;
      const nextPer = nextPeriodic(cur);
      if (nextPer < nextAbs && nextPer > stretchStart + DAY_MS) {
        if (nextAbs === Infinity) return null;
        cur = nextAbs - 1;
        stretchStart = nextAbs;
        continue;
      }
      const t = Math.min(nextAbs, nextPer);
      if (t === Infinity || t > MAX_INSTANT) return null;
      if (t === nextAbs) {
        ai++;
        stretchStart = t;
      }
      cur = t;
      if (this.isAuthorized(at(t), entities).decision !== decision) return t;
    }
    // Search budget spent: the decision held up to `cur`, so `cur` is a safe answer.
    return cur;
  }
}

/**
 * Compiles a Cedar policy set (parse with cedar-wasm, validate against the schema when given,
 * compile to closures). Throws `PolicyError` (`POLICY_PARSE`, `POLICY_VALIDATION`, `POLICY_LINK`,
 * `POLICY_SCHEMA`) with line and column.
 */
export function compilePolicySet(options: CompileOptions): CompiledPolicySet {
  const schema = options.schema === undefined ? undefined : options.schema instanceof CedarSchema ? options.schema : CedarSchema.parse(options.schema);
  const statics = parseStaticPolicies(options.policies);
  const templates = parseTemplates(normalizeSources(options.templates));
  const links: WasmLink[] = (options.links ?? []).map((l) => ({
    templateId: l.templateId,
    newId: l.newId,
    values: Object.fromEntries(Object.entries(l.values).map(([k, v]) => [k, toUid(v as EntityUid)])),
  }));
  const templateById = new Map(templates.map((t) => [t.id, t]));
  for (const l of links) {
    if (!templateById.has(l.templateId)) throw new PolicyError(PolicyErrorCode.link, `link \`${l.newId}\` names unknown template \`${l.templateId}\``, { policyId: l.newId });
  }
  assertUniqueIds([...statics, ...templates, ...links.map((l) => ({ id: l.newId, source: 'links' }) as ParsedPolicy)]);
  if (schema) validatePolicies(schema, [...statics, ...templates], links);

  const infos: PolicyInfo[] = [];
  const runnable: Runnable[] = [];
  const plans: HorizonPlan[] = [];
  let opaqueTime = false;
  const effects = new Map<string, Effect>();
  const fallbackStatics: ParsedPolicy[] = [];
  const fallbackLinks: WasmLink[] = [];

  const add = (id: string, parsed: ParsedPolicy, ir: PolicyIr | undefined, link?: WasmLink): void => {
    const effect: Effect = ir?.effect ?? ((parsed.est as { effect?: Effect } | undefined)?.effect === 'forbid' ? 'forbid' : 'permit');
    effects.set(id, effect);
    const forced = options.fallback === 'all' || (Array.isArray(options.fallback) && options.fallback.includes(id));
    let reason = forced ? 'fallback forced by options' : parsed.unsupported;
    let test: PolicyTest | undefined;
    if (ir && reason === undefined) {
      try {
        test = compilePolicy(ir);
      } catch (e) {
        reason = `compiler: ${errorMessage(e)}`;
      }
    }
    const inputs = ir ? analyzePolicy(ir) : opaqueInputs;
    const plan = ir ? planHorizon(ir) : undefined;
    if (plan) {
      plans.push(plan);
      opaqueTime ||= plan.opaque;
    } else if (!ir) {
      opaqueTime = true;
    }
    infos.push({
      id,
      effect,
      kind: link ? 'linked' : 'static',
      ...(link ? { templateId: link.templateId } : {}),
      compiled: test !== undefined,
      ...(test === undefined ? { fallbackReason: reason ?? 'not compiled' } : {}),
      annotations: parsed.annotations,
      ...(ir ? { scope: { principal: ir.principal, action: ir.action, resource: ir.resource } } : {}),
      text: parsed.text,
      source: parsed.source,
      line: parsed.line,
      inputs,
    });
    if (test) runnable.push({ id, forbid: effect === 'forbid', test, actionKey: ir?.action.op === '==' ? ir.action.entity.key : undefined });
    else if (link) fallbackLinks.push(link);
    else fallbackStatics.push(parsed);
  };

  for (const p of statics) add(p.id, p, p.ir);
  for (const l of links) {
    const t = templateById.get(l.templateId) as ParsedPolicy;
    const ir = t.ir ? linkTemplate(t.ir, l.values, { templateId: t.id, linkId: l.newId }) : undefined;
    add(l.newId, t, ir, l);
  }
  // Forbids first: their ids are what a denial reports, and they are usually the selective ones.
  runnable.sort((a, b) => Number(b.forbid) - Number(a.forbid));

  const fallback =
    fallbackStatics.length + fallbackLinks.length > 0 ? new WasmFallback(fallbackStatics, templates, fallbackLinks, (id) => effects.get(id) ?? 'permit') : undefined;
  return new CompiledPolicySet({ policies: infos, runnable, fallback, plans, opaqueTime, schema });
}
