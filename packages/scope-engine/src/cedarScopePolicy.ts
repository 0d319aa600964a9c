import { accessGroupId, compilePolicySet, Datetime, EntityUid, LivescopeTypes, livescopeSchemaText, type CedarRecord, type CompiledPolicySet, type Entity, type EntityStore, type PolicyInputs } from '@livescope/policy';
import { PolicyInput, type ContextView, type PolicyDecision, type PolicyScopeHint, type PrincipalView, type ResourceView, type ScopePolicy } from './ScopePolicy.js';

/**
 * The production policy layer: published Cedar files compiled to JavaScript closures by
 * @livescope/policy and validated against the livescope schema. This file maps the engine's views
 * onto Cedar entities and context (see docs/policies.md for the model).
 */
const NO_PARENTS: readonly EntityUid[] = [];
const EMPTY: CedarRecord = {};

class RequestEntities implements EntityStore {
  constructor(
    private readonly principalUid: EntityUid,
    private readonly principal: Entity,
    private readonly resourceUid: EntityUid,
    private readonly resource: Entity,
    private readonly actionUid: EntityUid,
    private readonly action: Entity,
  ) {}

  get(uid: EntityUid): Entity | undefined {
    if (uid.type === LivescopeTypes.identity) return uid.id === this.principalUid.id ? this.principal : undefined;
    if (uid.type === LivescopeTypes.resource) return uid.id === this.resourceUid.id ? this.resource : undefined;
    if (uid.type === LivescopeTypes.action) return uid.id === this.actionUid.id ? this.action : { attrs: EMPTY, parents: NO_PARENTS };
    if (uid.type === LivescopeTypes.role) return { attrs: EMPTY, parents: NO_PARENTS };
    return undefined;
  }
}

interface PrincipalEntity {
  readonly uid: EntityUid;
  readonly entity: Entity;
}

const principals = new WeakMap<PrincipalView, PrincipalEntity>();

function principalEntity(p: PrincipalView): PrincipalEntity {
  let e = principals.get(p);
  if (!e) {
    e = {
      uid: new EntityUid(LivescopeTypes.identity, p.id),
      entity: {
        attrs: { kind: p.kind, name: p.name, namespace: p.namespace, owner: p.owner, riskScore: p.riskScore, status: p.status },
        parents: p.roles.map((r) => new EntityUid(LivescopeTypes.role, r)),
        tags: p.labels,
      },
    };
    principals.set(p, e);
  }
  return e;
}

function request(p: PrincipalView, r: ResourceView, c: ContextView): { req: Parameters<CompiledPolicySet['isAuthorized']>[0]; store: EntityStore } {
  const pe = principalEntity(p);
  const actionUid = new EntityUid(LivescopeTypes.action, r.action);
  const resourceUid = new EntityUid(LivescopeTypes.resource, r.resource);
  const resourceAttrs: Record<string, string> = { type: r.resourceType ?? '', system: r.system ?? '' };
  if (r.namespace !== undefined) resourceAttrs.namespace = r.namespace;
  const store = new RequestEntities(
    pe.uid,
    pe.entity,
    resourceUid,
    { attrs: resourceAttrs, parents: NO_PARENTS, tags: r.labels ?? EMPTY },
    actionUid,
    { attrs: EMPTY, parents: [new EntityUid(LivescopeTypes.action, accessGroupId(r.access))] },
  );
  const context: CedarRecord = {
    now: Datetime.fromEpochMs(c.nowMs),
    session: { active: c.session.active, count: c.session.count, mfa: c.session.mfa, tasks: c.session.tasks },
    approvals: c.approvals,
    humanApprovals: c.humanApprovals,
    riskScore: c.riskScore,
    anomalies: c.anomalies,
    humanUseDetected: c.humanUseDetected,
    releaseWindows: c.releaseWindows,
    incidentNamespaces: c.incidentNamespaces,
    grant: { jit: c.grant.jit, roles: c.grant.roles },
  };
  return { req: { principal: pe.uid, action: actionUid, resource: resourceUid, context }, store };
}

/** Which engine inputs a policy set can read, from the compiler's analysis. */
function readsFrom(u: PolicyInputs): (input: PolicyInput) => boolean {
  if (u.opaque || u.otherEntities || u.context.includes('')) return () => true;
  const ctx = (name: string): boolean => u.context.some((p) => p === name || p.startsWith(`${name}.`));
  const principalRead = u.principal.attrs.length > 0 || u.principal.tags.length > 0 || u.principal.hierarchy;
  const table: Record<PolicyInput, boolean> = {
    [PolicyInput.now]: u.readsNow,
    [PolicyInput.session]: ctx('session'),
    [PolicyInput.approvals]: ctx('approvals') || ctx('humanApprovals'),
    [PolicyInput.riskScore]: ctx('riskScore') || u.principal.attrs.includes('riskScore') || u.principal.attrs.includes('*'),
    [PolicyInput.anomalies]: ctx('anomalies'),
    [PolicyInput.humanUse]: ctx('humanUseDetected'),
    [PolicyInput.releaseWindows]: ctx('releaseWindows'),
    [PolicyInput.incidents]: ctx('incidentNamespaces'),
    [PolicyInput.grant]: ctx('grant'),
    [PolicyInput.principal]: principalRead,
  };
  return (input) => table[input];
}

export function scopeHintOf(info: CompiledPolicySet['policies'][number] | undefined): PolicyScopeHint {
  const scope = info?.scope;
  if (!scope) return {};
  const hint: { principals?: string[]; roles?: string[]; actions?: string[] } = {};
  const p = scope.principal;
  if ((p.op === '==' || p.op === 'in') && p.entity instanceof EntityUid) {
    if (p.entity.type === LivescopeTypes.identity) hint.principals = [p.entity.id];
    else if (p.op === 'in' && p.entity.type === LivescopeTypes.role) hint.roles = [p.entity.id];
  }
  const a = scope.action;
  const actions = a.op === '==' ? [a.entity] : a.op === 'in' ? a.entities : [];
  // Access groups (`access:write`) match by the permission's access level, not its name: no action index.
  if (actions.length > 0 && actions.every((x) => !x.id.startsWith('access:'))) hint.actions = actions.map((x) => x.id);
  return hint;
}

/**
 * Compiles a published policy set. Throws a PolicyError (with file, line and column) when a file
 * does not parse or does not validate against the livescope schema; the engine then keeps the
 * previous set and dead-letters the event.
 */
export function compileScopePolicy(files: readonly { id: string; text: string }[], version: number): ScopePolicy & { readonly compiled: CompiledPolicySet } {
  // Every partition of a worker compiles the same published set (on load and on publication); the
  // result is immutable, so one compilation serves them all (it was ~0.35 s of each partition load).
  const key = `${version}\u0000${files.map((f) => `${f.id}\u0000${f.text}`).join('\u0000')}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const policy = compileUncached(files, version);
  if (compiled.size >= 4) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, policy);
  return policy;
}

const compiled = new Map<string, ScopePolicy & { readonly compiled: CompiledPolicySet }>();

function compileUncached(files: readonly { id: string; text: string }[], version: number): ScopePolicy & { readonly compiled: CompiledPolicySet } {
  const set = compilePolicySet({ policies: files.map((f) => ({ id: f.id, text: f.text })), schema: livescopeSchemaText });
  const reads = readsFrom(set.analysis.union);
  const byId = new Map(set.policies.map((p) => [p.id, p]));
  const fingerprints = new Map(set.policies.map((p) => [p.id, p.text]));
  const readsNow = set.analysis.union.readsNow;
  const policy: ScopePolicy & { readonly compiled: CompiledPolicySet } = {
    version,
    fingerprints,
    compiled: set,
    decide(principal, resource, context): PolicyDecision {
      const { req, store } = request(principal, resource, context);
      const r = set.isAuthorized(req, store);
      return { allow: r.decision === 'allow', determining: r.reason, errors: r.errors };
    },
    horizon(principal, resource, context): number | null {
      if (!readsNow) return null;
      const { req, store } = request(principal, resource, context);
      return set.horizon(req, store, context.nowMs);
    },
    reads,
    scopeHint: (policyId) => scopeHintOf(byId.get(policyId)),
  };
  return policy;
}
