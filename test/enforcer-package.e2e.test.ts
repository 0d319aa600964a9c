import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityEvent } from '@livescope/contracts';
import { PipelineFixture, testEnv, WorkerProcess, waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `@livescope/enforcer` as people install it: `npm pack`, installed from the tarball into a
 * scratch project outside the monorepo (from the local npm cache), imported as ESM with its types,
 * and run against the real broker behind Fastify. Restarts keep one consumer group per point.
 */
const repo = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
let fx: PipelineFixture;
let worker: WorkerProcess;
let scratch: string;
const identity = (): string => `sa-pkg-${fx.id}`;
const enforcerId = (): string => `pkg-${fx.id}`;

const run = (cmd: string, args: string[], cwd: string): string => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

const APP = `
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { Enforcer, fastifyEnforcer, parsePublicKey } from '@livescope/enforcer';

const env = process.env;
const metrics = new Registry();
const enforcer = new Enforcer({
  brokers: env.BROKERS.split(','), registryUrl: env.REGISTRY_URL, topicPrefix: env.TOPIC_PREFIX,
  enforcerId: env.ENFORCER_ID, trustedKeys: [parsePublicKey(env.KEY_ID, env.PUBLIC_KEY)],
  requireSession: false, metricsRegistry: metrics, flushIntervalMs: 200,
});
await enforcer.start();
await enforcer.ready;
const app = Fastify();
// The orders API is enforced; /metrics (registered outside this scope) is not.
await app.register(async (orders) => {
  orders.addHook('onRequest', fastifyEnforcer(enforcer, {
    identity: (req) => req.headers['x-identity'],
    action: (req) => (req.method === 'GET' ? 'orders:read' : 'orders:write'),
    resource: (req) => 'orders' + req.url.slice('/orders'.length),
  }));
  orders.get('/orders/:id', async (req) => ({ id: req.params.id }));
  orders.post('/orders/:id', async () => ({ written: true }));
});
app.get('/metrics', async (req, reply) => reply.type('text/plain').send(await metrics.metrics()));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write('READY ' + app.server.address().port + ' ' + enforcer.groupId + '\\n');
process.on('SIGTERM', () => void app.close().then(() => enforcer.stop()).then(() => process.exit(0)));
`;

const CONSUMER_TS = `
import { Enforcer, type Decision, type EnforcerOptions } from '@livescope/enforcer';
declare const enforcer: Enforcer;
const d: Decision = enforcer.authorize('sa-1', undefined, 'db:read', 'db/x');
const code: 'allowed' | 'unknown-identity' | 'inactive-identity' | 'session-not-active' | 'session-not-bound' | 'not-in-scope' | 'expired' | 'stale' = d.code;
// @ts-expect-error maxStalenessMs is a number of ms
const bad: EnforcerOptions = { brokers: [], registryUrl: '', enforcerId: 'x', trustedKeys: [], maxStalenessMs: '30s' };
export { code, bad };
`;

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  worker = new WorkerProcess('pkg-worker', fx.workerEnv()).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  const t = Date.now();
  await fx.publish([
    identityEvent('identity.created', identity(), { kind: 'workload', name: 'pkg', namespace: 'shop', owner: 'o' }, { id: `c-${fx.id}`, time: t }),
    identityEvent('entitlement.granted', identity(), { grantId: 'g1', role: 'r', permissions: [{ action: 'orders:read', resource: 'orders/7', access: 'read' }] }, { id: `g-${fx.id}`, time: t }),
  ]);
  scratch = mkdtempSync(join(tmpdir(), 'livescope-sdk-consumer-'));
  // The tarball, as `npm publish` would upload it (prepack builds the bundle).
  run('npm', ['pack', '--pack-destination', scratch], join(repo, 'packages/enforcer'));
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'))!;
  const fastify = (JSON.parse(run('npm', ['ls', 'fastify', '--json', '--depth=0', '-w', '@livescope/control-plane'], repo)) as { dependencies?: Record<string, { dependencies?: Record<string, { version: string }> }> }).dependencies?.['@livescope/control-plane']?.dependencies?.fastify?.version ?? '5';
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module', dependencies: { '@livescope/enforcer': `file:./${tarball}`, fastify, 'prom-client': '^15.1.3' } }, null, 2));
  writeFileSync(join(scratch, 'app.mjs'), APP);
  writeFileSync(join(scratch, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['consumer.ts'] }));
  // Tarballs from the local npm cache (the monorepo installed every dependency already); only the
  // registry's metadata is asked for, which \`npm ci\` does not cache.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], scratch);
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await fx?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function startApp(): Promise<{ child: ChildProcess; port: number; groupId: string; output: string[] }> {
  const output: string[] = [];
  const child = spawn(process.execPath, ['app.mjs'], {
    cwd: scratch,
    env: { ...process.env, BROKERS: testEnv.brokers.join(','), REGISTRY_URL: testEnv.registryUrl, TOPIC_PREFIX: fx.prefix, ENFORCER_ID: enforcerId(), KEY_ID: fx.keys.kid, PUBLIC_KEY: fx.keys.publicKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
  return waitFor(`the packed SDK app to be ready (${output.join('').slice(-2000)})`, () => {
    if (child.exitCode !== null) throw new Error(`the app exited ${child.exitCode}: ${output.join('').slice(-3000)}`);
    const m = /READY (\d+) (\S+)/.exec(output.join(''));
    return m ? { child, port: Number(m[1]), groupId: m[2]!, output } : undefined;
  }, 120_000, 100);
}

const stopApp = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('@livescope/enforcer from its npm tarball', () => {
  it('type-checks in a consumer project: ESM with real types', () => {
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], scratch);
  });

  it('installs without private dependencies and enforces behind Fastify against the real broker; restarts keep one consumer group', async () => {
    const installed = JSON.parse(run('npm', ['ls', '--all', '--json'], scratch)) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> };
    expect(Object.keys(installed.dependencies['@livescope/enforcer']?.dependencies ?? {}).filter((d) => d.startsWith('@livescope/'))).toEqual([]);

    for (let round = 0; round < 2; round++) {
      const app = await startApp();
      const base = `http://127.0.0.1:${app.port}`;
      const call = async (method: string, path: string, id = identity()) => {
        const r = await fetch(`${base}${path}`, { method, headers: { 'x-identity': id } });
        return { status: r.status, body: (await r.json()) as { code?: string } };
      };
      await waitFor('the identity in the packed enforcer', async () => (await call('GET', '/orders/7')).status === 200 || undefined, 30_000, 100);
      expect(await call('POST', '/orders/7')).toMatchObject({ status: 403, body: { code: 'not-in-scope' } });
      expect(await call('GET', '/orders/7', 'sa-nobody')).toMatchObject({ status: 403, body: { code: 'unknown-identity' } });
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('livescope_enforcer_decisions_total');
      expect(app.groupId).toBe(`livescope-enforcer-${enforcerId()}`);
      expect(await stopApp(app.child)).toBe(0);
    }
    const groups = (await fx.admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`livescope-enforcer-${enforcerId()}`));
    expect(groups).toEqual([`livescope-enforcer-${enforcerId()}`]);
  });
});
