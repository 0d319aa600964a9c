import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accessGroupId,
  cedarWasm,
  Datetime,
  EntityMap,
  EntityUid,
  entityToJson,
  LivescopeTypes,
  recordToJson,
  toWasmJson,
  type AuthorizationRequest,
  type CedarRecord,
  type PolicySource,
} from '@livescope/policy';

export const EXAMPLES_DIR = new URL('../../../examples/policies/', import.meta.url).pathname;

/** The seed-scenario policies of examples/policies, one source per file (id = file name). */
/** Every example policy: the published set (`examples/policies/*.cedar`) and the optional ones (`optional/`). */
export function examplePolicies(): PolicySource[] {
  const read = (dir: string): PolicySource[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.cedar'))
      .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(join(dir, f), 'utf8') }));
  return [...read(EXAMPLES_DIR), ...read(join(EXAMPLES_DIR, 'optional'))].sort((a, b) => (a.id < b.id ? -1 : 1));
}

const ACTION_ACCESS: Record<string, 'read' | 'write' | 'admin'> = {
  'k8s:read': 'read',
  'tickets:read': 'read',
  'secrets:read': 'read',
  'db:read': 'read',
  'vault:read': 'read',
  'k8s:deploy': 'write',
  'tickets:write': 'write',
  'db:write': 'write',
  'tool:invoke': 'write',
  'k8s:admin': 'admin',
  'db:admin': 'admin',
  'vault:admin': 'admin',
  'console:admin': 'admin',
};

export const action = (name: string): EntityUid => new EntityUid(LivescopeTypes.action, name);
export const identity = (id: string): EntityUid => new EntityUid(LivescopeTypes.identity, id);
export const resource = (id: string): EntityUid => new EntityUid(LivescopeTypes.resource, id);
export const role = (id: string): EntityUid => new EntityUid(LivescopeTypes.role, id);

export interface IdentitySpec {
  id: string;
  kind?: string;
  namespace?: string;
  riskScore?: number;
  status?: string;
  roles?: string[];
  labels?: Record<string, string>;
}

export interface ResourceSpec {
  id: string;
  type?: string;
  system?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

/** What the scope engine builds per evaluation: one identity, its resources, the actions with their groups. */
export function livescopeEntities(who: IdentitySpec, resources: ResourceSpec[]): EntityMap {
  const map = new EntityMap();
  map.set(identity(who.id), {
    attrs: {
      kind: who.kind ?? 'workload',
      name: who.id,
      namespace: who.namespace ?? 'pay',
      owner: 'alice',
      riskScore: who.riskScore ?? 10,
      status: who.status ?? 'active',
    },
    parents: (who.roles ?? []).map(role),
    tags: who.labels ?? {},
  });
  for (const r of resources) {
    map.set(resource(r.id), {
      attrs: { type: r.type ?? 'cluster', system: r.system ?? 'k8s', ...(r.namespace === undefined ? {} : { namespace: r.namespace }) },
      parents: [],
      tags: r.labels ?? {},
    });
  }
  for (const [name, access] of Object.entries(ACTION_ACCESS)) map.set(action(name), { attrs: {}, parents: [action(accessGroupId(access))] });
  return map;
}

export interface ContextSpec {
  nowMs?: number;
  sessionActive?: boolean;
  approvals?: string[];
  riskScore?: number;
  anomalies?: string[];
  releaseWindows?: string[];
  incidentNamespaces?: string[];
  jit?: boolean;
}

export const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

export function livescopeContext(c: ContextSpec = {}): CedarRecord {
  return {
    now: Datetime.fromEpochMs(c.nowMs ?? T0),
    session: { active: c.sessionActive ?? true, count: 1, mfa: true, tasks: ['task-1'] },
    approvals: c.approvals ?? [],
    humanApprovals: c.approvals ?? [],
    riskScore: c.riskScore ?? 0,
    anomalies: c.anomalies ?? [],
    humanUseDetected: false,
    releaseWindows: c.releaseWindows ?? [],
    incidentNamespaces: c.incidentNamespaces ?? [],
    grant: { jit: c.jit ?? false, roles: [] },
  };
}

/** cedar-wasm's decision for the same native request (the oracle). */
export function wasmDecision(
  policies: readonly { readonly id: string; readonly text: string }[],
  request: AuthorizationRequest,
  entities: EntityMap,
): { decision: string; reason: string[]; errors: string[] } {
  const staticPolicies: Record<string, string> = {};
  for (const p of policies) staticPolicies[p.id] = p.text;
  const answer = cedarWasm.isAuthorized({
    principal: { type: request.principal.type, id: request.principal.id },
    action: { type: request.action.type, id: request.action.id },
    resource: { type: request.resource.type, id: request.resource.id },
    context: toWasmJson(recordToJson(request.context ?? {})) as never,
    entities: toWasmJson([...entities.entries()].map(([u, e]) => entityToJson(u, e))) as never,
    policies: { staticPolicies },
  });
  if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
  return { decision: answer.response.decision, reason: answer.response.diagnostics.reason, errors: answer.response.diagnostics.errors.map((e) => e.policyId) };
}
