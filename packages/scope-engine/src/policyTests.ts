import type { Access, IdentityId, IdentityKind } from '@livescope/contracts';
import { defaultEngineConfig } from './EngineConfig.js';
import { explain } from './explain.js';
import { emptyGlobals, type Globals } from './Globals.js';
import { newIdentity, type IdentityState, type JitGrant, type RoleGrant, type Session } from './IdentityState.js';
import { PermInterner } from './PermInterner.js';
import type { ScopePolicy } from './ScopePolicy.js';

/**
 * Policy tests: given an identity, its entitlements, its sessions, context facts and an instant,
 * expect `allow` or `deny` for an action on a resource (and optionally the policies that
 * determined it). A test is run by building the identity's engine state from those facts and asking
 * `explain` — the function the API's explain uses, over `computeScope` and the compiled Cedar set
 * the workers run — so a test passes exactly when the workers would decide the same.
 *
 * The file format (JSON, `*.test.json`) is documented in docs/policies.md#policy-tests.
 */

const ACCESS: readonly Access[] = ['read', 'write', 'admin'];
const KINDS: readonly IdentityKind[] = ['agent', 'workload', 'service-account', 'ci-job'];

export interface TestPermission {
  readonly action: string;
  readonly resource: string;
  readonly access: Access;
  readonly type?: string;
  readonly system?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type TestEntitlement =
  | { readonly role: string; readonly permissions: readonly TestPermission[] }
  /** A just-in-time grant, live at the test instant for `ttlSeconds` (default 300), bound to a session when `session` is given. */
  | { readonly jit: { readonly ttlSeconds?: number; readonly session?: string }; readonly permissions: readonly TestPermission[] };

export interface TestCase {
  readonly action: string;
  readonly resource: string;
  readonly expect: 'allow' | 'deny';
  /** When given, the policies that determined the decision must be exactly these (order ignored). */
  readonly determining?: readonly string[];
}

export interface PolicyTest {
  readonly name: string;
  /** ISO instant the decision is made at (context.now). */
  readonly at: string;
  readonly identity: {
    readonly id: string;
    readonly kind: IdentityKind;
    readonly namespace: string;
    readonly name?: string;
    readonly owner?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly riskScore?: number;
    readonly status?: 'active' | 'disabled';
  };
  readonly entitlements: readonly TestEntitlement[];
  /** Live attested sessions. */
  readonly sessions?: readonly { readonly id: string; readonly mfa?: boolean; readonly task?: string }[];
  readonly context?: {
    /** Escalations approved by a verified person (they are in `context.approvals` and `context.humanApprovals`), or `{ escalation, human: false, session }`. */
    readonly approvals?: readonly (string | { readonly escalation: string; readonly human?: boolean; readonly session?: string })[];
    readonly anomalies?: readonly string[];
    readonly humanUseDetected?: boolean;
    /** Namespaces with an open release window at `at`. */
    readonly releaseWindows?: readonly string[];
    readonly incidentNamespaces?: readonly string[];
  };
  /** Decide as seen from this session (approvals and just-in-time grants given for a session hold only there). */
  readonly session?: string;
  readonly cases: readonly TestCase[];
}

export interface PolicyTestFile {
  readonly tests: readonly PolicyTest[];
}

export interface CaseResult {
  readonly test: string;
  readonly action: string;
  readonly resource: string;
  readonly expected: 'allow' | 'deny';
  readonly actual: 'allow' | 'deny';
  readonly expectedDetermining?: readonly string[];
  readonly determining: readonly string[];
  readonly passed: boolean;
  /** Why it failed, or the engine's one-sentence explanation when it passed. */
  readonly message: string;
}

/** A test file that does not have the documented shape: `path` is a JSON path (`tests[2].cases[0].expect`). */
export class PolicyTestFormatError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'PolicyTestFormatError';
  }
}

// --- parsing --------------------------------------------------------------------------------------
type Json = unknown;
const isObj = (x: Json): x is Record<string, Json> => typeof x === 'object' && x !== null && !Array.isArray(x);

function obj(x: Json, path: string, allowed: readonly string[]): Record<string, Json> {
  if (!isObj(x)) throw new PolicyTestFormatError(path, 'expected an object');
  for (const k of Object.keys(x)) if (!allowed.includes(k)) throw new PolicyTestFormatError(`${path}.${k}`, `unknown field (expected one of ${allowed.join(', ')})`);
  return x;
}
function str(x: Json, path: string): string {
  if (typeof x !== 'string' || x.length === 0) throw new PolicyTestFormatError(path, 'expected a non-empty string');
  return x;
}
function optStr(x: Json, path: string): string | undefined {
  return x === undefined ? undefined : str(x, path);
}
function arr(x: Json, path: string): Json[] {
  if (!Array.isArray(x)) throw new PolicyTestFormatError(path, 'expected an array');
  return x;
}
function strs(x: Json, path: string): string[] {
  return x === undefined ? [] : arr(x, path).map((v, i) => str(v, `${path}[${i}]`));
}
function labels(x: Json, path: string): Record<string, string> | undefined {
  if (x === undefined) return undefined;
  if (!isObj(x)) throw new PolicyTestFormatError(path, 'expected an object of strings');
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, str(v, `${path}.${k}`)]));
}
function oneOf<T extends string>(x: Json, path: string, values: readonly T[]): T {
  if (typeof x !== 'string' || !values.includes(x as T)) throw new PolicyTestFormatError(path, `expected one of ${values.join(', ')}`);
  return x as T;
}

function permission(x: Json, path: string): TestPermission {
  const o = obj(x, path, ['action', 'resource', 'access', 'type', 'system', 'namespace', 'labels']);
  const l = labels(o.labels, `${path}.labels`);
  const type = optStr(o.type, `${path}.type`);
  const system = optStr(o.system, `${path}.system`);
  const namespace = optStr(o.namespace, `${path}.namespace`);
  return { action: str(o.action, `${path}.action`), resource: str(o.resource, `${path}.resource`), access: oneOf(o.access, `${path}.access`, ACCESS), ...(type ? { type } : {}), ...(system ? { system } : {}), ...(namespace ? { namespace } : {}), ...(l ? { labels: l } : {}) };
}

function entitlement(x: Json, path: string): TestEntitlement {
  const o = obj(x, path, ['role', 'jit', 'permissions']);
  const permissions = arr(o.permissions, `${path}.permissions`).map((p, i) => permission(p, `${path}.permissions[${i}]`));
  if ((o.role === undefined) === (o.jit === undefined)) throw new PolicyTestFormatError(path, 'give exactly one of role or jit');
  if (o.role !== undefined) return { role: str(o.role, `${path}.role`), permissions };
  const j = obj(o.jit, `${path}.jit`, ['ttlSeconds', 'session']);
  if (j.ttlSeconds !== undefined && !(typeof j.ttlSeconds === 'number' && Number.isInteger(j.ttlSeconds) && j.ttlSeconds > 0)) throw new PolicyTestFormatError(`${path}.jit.ttlSeconds`, 'expected a positive integer');
  const session = optStr(j.session, `${path}.jit.session`);
  return { jit: { ...(j.ttlSeconds !== undefined ? { ttlSeconds: j.ttlSeconds } : {}), ...(session ? { session } : {}) }, permissions };
}

function testOf(x: Json, path: string): PolicyTest {
  const o = obj(x, path, ['name', 'at', 'identity', 'entitlements', 'sessions', 'context', 'session', 'cases']);
  const at = str(o.at, `${path}.at`);
  if (Number.isNaN(Date.parse(at))) throw new PolicyTestFormatError(`${path}.at`, 'expected an ISO 8601 instant');
  const i = obj(o.identity, `${path}.identity`, ['id', 'kind', 'namespace', 'name', 'owner', 'labels', 'riskScore', 'status']);
  if (i.riskScore !== undefined && !(typeof i.riskScore === 'number' && Number.isInteger(i.riskScore) && i.riskScore >= 0 && i.riskScore <= 100)) throw new PolicyTestFormatError(`${path}.identity.riskScore`, 'expected an integer 0..100');
  const identityLabels = labels(i.labels, `${path}.identity.labels`);
  const identity: PolicyTest['identity'] = {
    id: str(i.id, `${path}.identity.id`),
    kind: oneOf(i.kind, `${path}.identity.kind`, KINDS),
    namespace: str(i.namespace, `${path}.identity.namespace`),
    ...(i.name !== undefined ? { name: str(i.name, `${path}.identity.name`) } : {}),
    ...(i.owner !== undefined ? { owner: str(i.owner, `${path}.identity.owner`) } : {}),
    ...(identityLabels ? { labels: identityLabels } : {}),
    ...(i.riskScore !== undefined ? { riskScore: i.riskScore } : {}),
    ...(i.status !== undefined ? { status: oneOf(i.status, `${path}.identity.status`, ['active', 'disabled'] as const) } : {}),
  };
  const sessions = o.sessions === undefined ? undefined : arr(o.sessions, `${path}.sessions`).map((s, k) => {
    const so = obj(s, `${path}.sessions[${k}]`, ['id', 'mfa', 'task']);
    if (so.mfa !== undefined && typeof so.mfa !== 'boolean') throw new PolicyTestFormatError(`${path}.sessions[${k}].mfa`, 'expected true or false');
    const task = optStr(so.task, `${path}.sessions[${k}].task`);
    return { id: str(so.id, `${path}.sessions[${k}].id`), ...(so.mfa !== undefined ? { mfa: so.mfa } : {}), ...(task ? { task } : {}) };
  });
  let context: PolicyTest['context'];
  if (o.context !== undefined) {
    const c = obj(o.context, `${path}.context`, ['approvals', 'anomalies', 'humanUseDetected', 'releaseWindows', 'incidentNamespaces']);
    if (c.humanUseDetected !== undefined && typeof c.humanUseDetected !== 'boolean') throw new PolicyTestFormatError(`${path}.context.humanUseDetected`, 'expected true or false');
    const approvals = c.approvals === undefined ? [] : arr(c.approvals, `${path}.context.approvals`).map((a, k) => {
      const p = `${path}.context.approvals[${k}]`;
      if (typeof a === 'string') return str(a, p);
      const ao = obj(a, p, ['escalation', 'human', 'session']);
      if (ao.human !== undefined && typeof ao.human !== 'boolean') throw new PolicyTestFormatError(`${p}.human`, 'expected true or false');
      const session = optStr(ao.session, `${p}.session`);
      return { escalation: str(ao.escalation, `${p}.escalation`), ...(ao.human !== undefined ? { human: ao.human } : {}), ...(session ? { session } : {}) };
    });
    context = {
      approvals,
      anomalies: strs(c.anomalies, `${path}.context.anomalies`),
      humanUseDetected: c.humanUseDetected === true,
      releaseWindows: strs(c.releaseWindows, `${path}.context.releaseWindows`),
      incidentNamespaces: strs(c.incidentNamespaces, `${path}.context.incidentNamespaces`),
    };
  }
  const cases = arr(o.cases, `${path}.cases`).map((cx, k) => {
    const p = `${path}.cases[${k}]`;
    const co = obj(cx, p, ['action', 'resource', 'expect', 'determining']);
    return { action: str(co.action, `${p}.action`), resource: str(co.resource, `${p}.resource`), expect: oneOf(co.expect, `${p}.expect`, ['allow', 'deny'] as const), ...(co.determining !== undefined ? { determining: strs(co.determining, `${p}.determining`) } : {}) };
  });
  if (cases.length === 0) throw new PolicyTestFormatError(`${path}.cases`, 'a test needs at least one case');
  const session = optStr(o.session, `${path}.session`);
  return {
    name: str(o.name, `${path}.name`),
    at,
    identity,
    entitlements: arr(o.entitlements, `${path}.entitlements`).map((e, k) => entitlement(e, `${path}.entitlements[${k}]`)),
    ...(sessions ? { sessions } : {}),
    ...(context ? { context } : {}),
    ...(session ? { session } : {}),
    cases,
  };
}

/** Parses a test file's JSON value; throws PolicyTestFormatError naming the first field at fault. */
export function parsePolicyTestFile(json: unknown): PolicyTestFile {
  const o = obj(json, '$', ['tests', '$schema', 'description']);
  const tests = arr(o.tests, '$.tests').map((t, i) => testOf(t, `$.tests[${i}]`));
  const names = new Set<string>();
  for (const [i, t] of tests.entries()) {
    if (names.has(t.name)) throw new PolicyTestFormatError(`$.tests[${i}].name`, `duplicate test name "${t.name}"`);
    names.add(t.name);
  }
  return { tests };
}

// --- running ---------------------------------------------------------------------------------------
const HOUR = 3_600_000;

/** The engine state and org-wide state a test describes, at its instant. */
export function testState(test: PolicyTest): { identity: IdentityState; globals: Globals; t: number } {
  const t = Date.parse(test.at);
  const interner = new PermInterner();
  const perm = (p: TestPermission) =>
    interner.intern({ action: p.action, resource: p.resource, access: p.access, ...(p.type ? { resourceType: p.type } : {}), ...(p.system ? { system: p.system } : {}), ...(p.namespace ? { namespace: p.namespace } : {}), ...(p.labels ? { labels: p.labels } : {}) });
  const grants: RoleGrant[] = [];
  const jit: JitGrant[] = [];
  test.entitlements.forEach((e, i) => {
    const perms = e.permissions.map(perm);
    if ('role' in e) grants.push({ grantId: `test-grant-${i}`, role: e.role, perms, at: t - HOUR });
    else jit.push({ grantId: `test-jit-${i}`, perms, expiresAt: t + (e.jit.ttlSeconds ?? 300) * 1000, sessionId: e.jit.session, at: t - 1000 });
  });
  const sessions: Session[] = (test.sessions ?? []).map((s) => ({ sessionId: s.id, task: s.task, mfa: s.mfa ?? false, tokenId: undefined, system: 'test', startedAt: t - 60_000, expiresAt: undefined, attested: true }));
  const c = test.context ?? {};
  const approvals = (c.approvals ?? []).map((a, k) => {
    const x = typeof a === 'string' ? { escalation: a } : a;
    return { approvalId: `test-approval-${k}`, escalation: x.escalation, sessionId: x.session, approvedBy: 'test-approver', expiresAt: t + HOUR, human: x.human ?? true };
  });
  const i = test.identity;
  const base = newIdentity({ id: i.id as IdentityId, kind: i.kind, name: i.name ?? i.id, namespace: i.namespace, owner: i.owner ?? 'test-owner', labels: i.labels ?? {}, at: t - HOUR, attested: true, lifecycleAt: t - HOUR });
  const identity: IdentityState = {
    ...base,
    status: i.status ?? 'active',
    grants,
    jit,
    sessions,
    approvals,
    anomalies: (c.anomalies ?? []).map((kind, k) => ({ anomalyId: `test-anomaly-${k}`, kind, severity: 'high', expiresAt: t + HOUR })),
    riskScore: i.riskScore ?? 0,
    humanUseUntil: c.humanUseDetected ? t + HOUR : 0,
  };
  const g = emptyGlobals();
  const globals: Globals = {
    ...g,
    windows: new Map((c.releaseWindows ?? []).map((ns, k) => [`test-window-${k}`, { windowId: `test-window-${k}`, namespace: ns, startsAt: t - HOUR, endsAt: t + HOUR, signedBy: 'test' }])),
    incidents: new Map((c.incidentNamespaces ?? []).map((ns, k) => [`test-incident-${k}`, { incidentId: `test-incident-${k}`, namespace: ns }])),
  };
  return { identity, globals, t };
}

/** Runs every case of every test against a compiled policy set (e.g. `compileScopePolicy(files, 1)`). */
export function runPolicyTests(policy: ScopePolicy, file: PolicyTestFile): CaseResult[] {
  const out: CaseResult[] = [];
  for (const test of file.tests) {
    const { identity, globals, t } = testState(test);
    for (const c of test.cases) {
      const e = explain(identity, globals, policy, c.action, c.resource, t, defaultEngineConfig, test.session);
      const actual = e.allowed ? 'allow' : 'deny';
      const determining = [...e.policies.determining];
      const problems: string[] = [];
      if (actual !== c.expect) problems.push(`expected ${c.expect}, got ${actual}: ${e.summary}`);
      if (c.determining !== undefined) {
        const want = [...c.determining].sort();
        const got = [...determining].sort();
        if (want.length !== got.length || want.some((x, k) => x !== got[k])) problems.push(`expected determining policies [${want.join(', ')}], got [${got.join(', ')}]`);
      }
      if (e.policies.errors.length > 0 && problems.length > 0) problems.push(`policies that failed to evaluate: ${e.policies.errors.join(', ')}`);
      out.push({
        test: test.name,
        action: c.action,
        resource: c.resource,
        expected: c.expect,
        actual,
        ...(c.determining !== undefined ? { expectedDetermining: c.determining } : {}),
        determining,
        passed: problems.length === 0,
        message: problems.length ? problems.join('; ') : e.summary,
      });
    }
  }
  return out;
}
