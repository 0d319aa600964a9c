/**
 * Compiled Cedar evaluator vs cedar-wasm `statefulIsAuthorized` (preparsed policy set), the same
 * request stream through both in one run. Per-decision figures come from batches timed with
 * `process.hrtime.bigint()`; p50/p99 are over batches.
 *
 *   npx tsx --conditions=livescope-source bench/policy/index.ts [--smoke]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as wasm from '@cedar-policy/cedar-wasm/nodejs';
import {
  accessGroupId,
  CedarSchema,
  compilePolicySet,
  Datetime,
  entitiesFromJson,
  EntityMap,
  EntityUid,
  entityToJson,
  livescopeSchemaText,
  LivescopeTypes,
  parseExactJson,
  recordToJson,
  requestFromJson,
  toWasmJson,
  type AuthorizationRequest,
  type CompiledPolicySet,
  type Entity,
} from '@livescope/policy';
import { parseBenchArgs, percentile, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const CORPUS = '/work/shared/testdata/cedar-corpus';
const EXAMPLES = new URL('../../examples/policies/', import.meta.url).pathname;

interface Job {
  readonly compiled: CompiledPolicySet;
  readonly request: AuthorizationRequest;
  readonly entities: EntityMap;
  /** The same request as cedar-wasm takes it. */
  readonly wasmCall: Parameters<typeof wasm.statefulIsAuthorized>[0];
  /** Whether the request holds integers beyond 2^53 (written as exact `__extn` escapes, see `toWasmJson`). */
  readonly exact: boolean;
}

let setCounter = 0;
function preparse(policies: Record<string, string> | string): string {
  const id = `bench-${setCounter++}`;
  const answer = wasm.preparsePolicySet(id, { staticPolicies: policies });
  if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
  return id;
}

function hasBigInt(v: unknown): boolean {
  if (typeof v === 'bigint') return true;
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasBigInt);
  return false;
}

// ---------- workload 1: the corpus sample ----------

function corpusJobs(limit: number): Job[] {
  const files = readdirSync(join(CORPUS, 'corpus-tests'))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.entities.json'))
    .sort()
    .slice(0, limit);
  const jobs: Job[] = [];
  for (const f of files) {
    const test = parseExactJson(readFileSync(join(CORPUS, 'corpus-tests', f), 'utf8')) as unknown as {
      policies: string;
      entities: string;
      schema: string;
      requests: { principal: unknown; action: unknown; resource: unknown; context: unknown }[];
    };
    const text = readFileSync(join(CORPUS, test.policies), 'utf8');
    const entitiesJson = parseExactJson(readFileSync(join(CORPUS, test.entities), 'utf8'));
    let schema: CedarSchema | undefined;
    try {
      schema = CedarSchema.parse(readFileSync(join(CORPUS, test.schema), 'utf8'));
    } catch {
      schema = undefined;
    }
    const compiled = compilePolicySet({ policies: text });
    const entities = entitiesFromJson(entitiesJson, schema ? { schema } : {});
    const setId = preparse(text);
    for (const r of test.requests) {
      const request = requestFromJson(r, schema ? { schema } : {});
      const call = {
        principal: r.principal,
        action: r.action,
        resource: r.resource,
        context: r.context,
        entities: entitiesJson,
        preparsedPolicySetId: setId,
        validateRequest: false,
      };
      jobs.push({ compiled, request, entities, wasmCall: toWasmJson(call) as unknown as Job['wasmCall'], exact: hasBigInt(call) });
    }
  }
  return jobs;
}

// ---------- workload 2: the seed-scenario policies over a livescope-shaped stream ----------

const ACTIONS: Record<string, 'read' | 'write' | 'admin'> = {
  'k8s:read': 'read',
  'tickets:read': 'read',
  'secrets:read': 'read',
  'db:read': 'read',
  'vault:read': 'read',
  'k8s:deploy': 'write',
  'tickets:write': 'write',
  'db:write': 'write',
  'tool:invoke': 'write',
  'console:admin': 'admin',
};

function seedJobs(count: number): { jobs: Job[]; compiled: CompiledPolicySet } {
  const sources = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.cedar'))
    .sort()
    .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(join(EXAMPLES, f), 'utf8') }));
  const compiled = compilePolicySet({ policies: sources, schema: livescopeSchemaText });
  const setId = preparse(Object.fromEntries(compiled.policies.map((p) => [p.id, p.text])));
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const kinds = ['agent', 'workload', 'service-account', 'ci-job'];
  const namespaces = ['pay', 'ops', 'web', 'data'];
  const jobs: Job[] = [];
  const t0 = Date.UTC(2026, 0, 15, 0, 0, 0);
  // Shared, like the engine's: action entities with their group, and a pool of resources.
  const actionEntities = Object.entries(ACTIONS).map(
    ([name, access]): [EntityUid, Entity] => [new EntityUid(LivescopeTypes.action, name), { attrs: {}, parents: [new EntityUid(LivescopeTypes.action, accessGroupId(access))] }],
  );
  const resources = Array.from({ length: 31 }, (_, i): [EntityUid, Entity] => {
    const uid = new EntityUid(LivescopeTypes.resource, `res-${i}`);
    return [uid, { attrs: { type: 'cluster', system: 'k8s', ...(rnd() < 0.9 ? { namespace: pick(namespaces) } : {}) }, parents: [], tags: {} }];
  });
  // The engine's access pattern: per identity, one principal entity and one context, then each
  // provisioned (action, resource) pair of that identity in turn.
  const perIdentity = 50;
  for (let n = 0; n < Math.ceil(count / perIdentity); n++) {
    const principal = new EntityUid(LivescopeTypes.identity, `id-${n}`);
    const principalEntity: Entity = {
      attrs: { kind: pick(kinds), name: principal.id, namespace: pick(namespaces), owner: 'alice', riskScore: Math.floor(rnd() * 100), status: 'active' },
      parents: rnd() < 0.2 ? [new EntityUid(LivescopeTypes.role, 'orchestrated-admin')] : [],
      tags: rnd() < 0.3 ? { orchestrator: 'flow', team: 'payments' } : { team: 'platform' },
    };
    const entities = new EntityMap([[principal, principalEntity], ...actionEntities, ...resources]);
    const context = {
      now: Datetime.fromEpochMs(t0 + Math.floor(rnd() * 86_400_000)),
      session: { active: rnd() < 0.8, count: 1, mfa: true, tasks: ['t'] },
      approvals: rnd() < 0.3 ? ['secret-retrieval'] : [],
      riskScore: Math.floor(rnd() * 100),
      anomalies: [],
      humanUseDetected: false,
      releaseWindows: namespaces.filter(() => rnd() < 0.3),
      incidentNamespaces: namespaces.filter(() => rnd() < 0.1),
      grant: { jit: rnd() < 0.5, roles: [] },
    };
    const contextJson = recordToJson(context);
    for (let k = 0; k < perIdentity && jobs.length < count; k++) {
      const [action, actionEntity] = pick(actionEntities);
      const [resource, resourceEntity] = pick(resources);
      const request: AuthorizationRequest = { principal, action, resource, context };
      // cedar-wasm gets what this one decision needs: the identity, the resource and the action.
      const wasmCall = JSON.parse(
        JSON.stringify({
          principal: { type: principal.type, id: principal.id },
          action: { type: action.type, id: action.id },
          resource: { type: resource.type, id: resource.id },
          context: contextJson,
          entities: [entityToJson(principal, principalEntity), entityToJson(resource, resourceEntity), entityToJson(action, actionEntity)],
          preparsedPolicySetId: setId,
          validateRequest: false,
        }),
      ) as Job['wasmCall'];
      jobs.push({ compiled, request, entities, wasmCall, exact: false });
    }
  }
  return { jobs, compiled };
}

// ---------- measurement ----------

/**
 * A fresh closure per workload: V8 (Node 20) can crash when optimised code that inlined a call into
 * wasm is deoptimised by result shapes it has not seen, which a second workload brings.
 */
function makeWasmRunner(): (job: Job) => string {
  return (job) => {
    const answer = wasm.statefulIsAuthorized(job.wasmCall);
    if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
    return answer.response.decision;
  };
}

function runCompiled(job: Job): string {
  return job.compiled.isAuthorized(job.request, job.entities).decision;
}

/** Per-decision nanoseconds of each batch of `batch` consecutive jobs (cycling through the stream). */
function measure(jobs: readonly Job[], run: (j: Job) => string, batch: number, batches: number): number[] {
  const out: number[] = [];
  let k = 0;
  let sink = 0;
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) {
      sink += run(jobs[k] as Job).length;
      k = k + 1 === jobs.length ? 0 : k + 1;
    }
    out.push(Number(process.hrtime.bigint() - start) / batch);
  }
  if (sink === 0) throw new Error('unreachable');
  return out.sort((a, b) => a - b);
}

function agreement(jobs: readonly Job[], runWasm: (j: Job) => string): number {
  let same = 0;
  for (const j of jobs) if (runWasm(j) === runCompiled(j)) same++;
  return same;
}

interface Result {
  readonly workload: string;
  readonly wasm: number[];
  readonly compiled: number[];
  readonly agreed: number;
  readonly decisions: number;
}

function bench(workload: string, jobs: readonly Job[]): Result {
  progress(`${workload}: ${jobs.length} requests (${jobs.filter((j) => j.exact).length} with integers beyond 2^53); checking agreement`);
  const runWasm = makeWasmRunner();
  const agreed = agreement(jobs, runWasm);
  const wasmBatch = args.smoke ? 20 : 200;
  const wasmBatches = args.smoke ? 10 : 200;
  const compiledBatch = args.smoke ? 200 : 1000;
  const compiledBatches = args.smoke ? 20 : 2000;
  progress(`${workload}: warm-up`);
  measure(jobs, runWasm, wasmBatch, Math.max(2, wasmBatches / 10));
  measure(jobs, runCompiled, compiledBatch, Math.max(2, compiledBatches / 10));
  progress(`${workload}: cedar-wasm statefulIsAuthorized, ${wasmBatches} batches of ${wasmBatch}`);
  const w = measure(jobs, runWasm, wasmBatch, wasmBatches);
  progress(`${workload}: compiled, ${compiledBatches} batches of ${compiledBatch}`);
  const c = measure(jobs, runCompiled, compiledBatch, compiledBatches);
  return { workload, wasm: w, compiled: c, agreed, decisions: jobs.length };
}

const us = (ns: number): number => ns / 1000;

/**
 * Each workload runs in a process of its own (like every benchmark under `npm run bench`): compiled
 * closures share optimised code per creation site, so the corpus' 600 unrelated policy sets would
 * otherwise leave the seed-scenario run with polymorphic, slower code (and vice versa).
 */
const WORKLOADS = ['corpus', 'seed'] as const;
type Workload = (typeof WORKLOADS)[number];
const RESULT_MARKER = '@@policy-bench-result ';

function runWorkload(w: Workload): Result & { policies: number } {
  if (w === 'corpus') return { ...bench('corpus sample', corpusJobs(args.smoke ? 30 : 600)), policies: 1 };
  const seed = seedJobs(args.smoke ? 300 : 5000);
  return { ...bench('seed-scenario policies', seed.jobs), policies: seed.compiled.policies.length };
}

const only = args.argv.find((a) => a.startsWith('--workload='))?.slice('--workload='.length) as Workload | undefined;
if (only !== undefined) {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(runWorkload(only))}\n`);
  process.exit(0);
}

const results = WORKLOADS.map((w) => {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--workload=${w}`, ...args.argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (child.status !== 0 || line === undefined) throw new Error(`workload ${w} failed (exit ${child.status})`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as Result & { policies: number };
});
const [corpus, seedResult] = results as [Result & { policies: number }, Result & { policies: number }];

const rows: Row[] = [];
const verdicts: string[] = [];
for (const r of [corpus, seedResult]) {
  const wp50 = percentile(r.wasm, 50);
  const wp99 = percentile(r.wasm, 99);
  const cp50 = percentile(r.compiled, 50);
  const cp99 = percentile(r.compiled, 99);
  rows.push(
    { workload: r.workload, engine: 'cedar-wasm statefulIsAuthorized', 'p50 µs/decision': us(wp50), 'p99 µs/decision': us(wp99), 'same decision': `${r.agreed}/${r.decisions}` },
    { workload: r.workload, engine: 'compiled closures', 'p50 µs/decision': us(cp50), 'p99 µs/decision': us(cp99), 'same decision': `${r.agreed}/${r.decisions}` },
    { workload: r.workload, engine: 'ratio wasm / compiled', 'p50 µs/decision': `${(wp50 / cp50).toFixed(0)}×`, 'p99 µs/decision': `${(wp99 / cp99).toFixed(0)}×`, 'same decision': '' },
  );
  verdicts.push(`${r.workload}: compiled is ${(wp50 / cp50).toFixed(0)}× faster at p50 (${(wp99 / cp99).toFixed(0)}× at p99); target ≥ 100× — ${wp50 / cp50 >= 100 ? 'met' : 'NOT met'}`);
}
const seedP50 = us(percentile(seedResult.compiled, 50));
verdicts.push(`seed-scenario set (${seedResult.policies} policies): compiled p50 ${seedP50.toPrecision(3)} µs per decision; target ≤ 1 µs — ${seedP50 <= 1 ? 'met' : 'NOT met'}`);

publish(
  {
    name: 'policy: compiled Cedar vs cedar-wasm',
    command: process.env.LIVESCOPE_BENCH_COMMAND ?? `npx tsx --conditions=livescope-source bench/policy/index.ts${args.smoke ? ' --smoke' : ''}`,
    setup:
      `Same request stream through both engines in one process. Corpus sample: ${corpus.decisions} requests of the 600 cedar-integration-tests sample (one preparsed set per test, entities as Cedar JSON per call; compiled side gets native values built once). ` +
      `Seed scenarios: ${seedResult.decisions} livescope requests, 50 (action, resource) pairs per identity as the engine evaluates them (one principal entity and runtime context per identity, shared action and resource entities; cedar-wasm gets the 3 entities each decision reads) over examples/policies (${seedResult.policies} policies). Each workload in its own process. ` +
      `Per-decision time = batch time / batch size (cedar-wasm batches of ${args.smoke ? 20 : 200}, compiled batches of ${args.smoke ? 200 : 1000}), p50/p99 over batches.${args.smoke ? ' SMOKE sizes.' : ''}`,
    rows,
    verdicts,
  },
  args,
);
