/**
 * A check through livescope-enforcer (the agent) against a no-op server of the same kind, in the
 * same run, over loopback: what the agent adds to a request beyond the hop a gateway pays anyway.
 *   - HTTP forward-auth (`GET /v1/forward-auth`, NGINX / Traefik style headers) vs a node:http
 *     server answering 200 at once;
 *   - the JSON check (`POST /v1/check`) vs a node:http server that reads and parses the body and
 *     answers a fixed JSON decision;
 *   - Envoy's ext_authz gRPC `Check` (Envoy's published protos) vs a gRPC server of the same service
 *     answering OK at once;
 *   - forward-auth with a bearer JWT (ES256, verified against a JWKS) instead of a trusted header.
 * The agent's enforcer holds `IDENTITIES` scopes applied as the Kafka consumer applies them (no
 * broker needed: only the request path is measured). One client, one request in flight, keep-alive;
 * latency per request from process.hrtime.bigint, percentiles over requests; rounds alternate
 * agent and baseline so drift hits both.
 *
 *   npm run bench -- agent [--smoke]
 */
import { createServer, Agent as HttpAgent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { asIdentityId, asSessionId, type ScopeSnapshot } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { AgentMetrics, authorizationService, CheckService, createHttpApi, envoyProtoDir, IdentityResolver, loadExtAuthz, RouteTable, ScopeWatch, startExtAuthzServer } from '@livescope/enforcer-agent';
import { fleetMembers } from '@livescope/simulator';
import { createLogger } from '@livescope/transport';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Registry } from 'prom-client';
import { parseBenchArgs, percentile, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const IDENTITIES = args.smoke ? 1_000 : 50_000;
const REQUESTS = args.smoke ? 300 : 20_000;
const ROUNDS = args.smoke ? 2 : 6;
const WARMUP = args.smoke ? 50 : 2_000;
const now = Date.now();

progress(`holding ${IDENTITIES.toLocaleString()} identities' scopes`);
const enforcer = new Enforcer({ brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', enforcerId: 'bench-agent', trustedKeys: [], logger: createLogger('bench-agent', 'silent'), requireSession: false, reportDecisions: false });
const fleet = fleetMembers(11, IDENTITIES);
for (const m of fleet) {
  const snapshot: ScopeSnapshot = {
    kind: 'scope.snapshot',
    identityId: asIdentityId(m.id),
    version: 3,
    at: new Date(now).toISOString(),
    status: 'active',
    permissions: m.roles.flatMap((r) => r.permissions.map((p) => ({ action: p.action, resource: p.resource, access: p.access, validUntil: null, grants: [`${m.id}/${r.name}`] }))),
    sessions: [asSessionId(`${m.id}/s1`)],
  };
  enforcer.state.applyScope(snapshot);
}
const member = fleet[0]!;
const perm = member.roles[0]!.permissions[0]!;
const routes = new RouteTable([{ methods: ['GET'], path: '/r/{rest*}', action: perm.action, resource: '{rest}' }]);
const path = `/r/${perm.resource}`;

const keys = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'b1', alg: 'ES256' };
const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'b1' }).setSubject(member.id).setIssuer('https://issuer.bench').setAudience('bench').setExpirationTime('2h').sign(keys.privateKey);
/** The agent's check path with verified tokens remembered for `cacheMs` (the default: 30 s) or not at all. */
const agentApi = (cacheMs: number) => {
  const identities = new IdentityResolver({
    sources: ['jwt', 'header'],
    jwt: { jwks: { keys: [jwk] }, issuer: 'https://issuer.bench', audience: 'bench', algorithms: ['ES256'], identityClaim: 'sub', clockToleranceS: 30, cacheMs },
    header: { identity: 'x-identity' },
  });
  const checks = new CheckService({ enforcer, identities, routes, ready: () => true, trustCallerIdentity: false });
  const registry = new Registry();
  const metrics = new AgentMetrics(registry, () => 0);
  const http = createHttpApi({ checks, watch: new ScopeWatch(enforcer.state, () => [], 1000, 0), metrics, registry, ready: () => ({ ok: true, checks: {} }), maxBodyBytes: 65_536, maxBatch: 100, forwardHeaders: 'x-original' });
  return { checks, metrics, http };
};
const { checks, metrics, http: agentHttp } = agentApi(30_000);
const { http: uncachedHttp } = agentApi(0);
const protoDir = await envoyProtoDir();
const agentGrpc = await startExtAuthzServer({ checks, metrics, protoDir, host: '127.0.0.1', port: 0 });

// The baselines: servers of the same kind that decide nothing.
const noopHttp = createServer((req, res) => {
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString());
      const body = '{"allowed":true,"code":"allowed","reason":"no-op","version":0}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
    });
    return;
  }
  req.resume();
  res.writeHead(200, { 'content-length': '0' });
  res.end();
});
const pkg = loadExtAuthz(protoDir);
const Authorization = authorizationService(pkg);
const noopGrpc = new grpc.Server();
noopGrpc.addService(Authorization.service, { Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { status: { code: 0 }, okResponse: { headers: [] } }) });
const noopGrpcPort = await new Promise<number>((resolve, reject) => noopGrpc.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
const listen = (s: Server): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
const agentPort = await listen(agentHttp);
const uncachedPort = await listen(uncachedHttp);
const noopPort = await listen(noopHttp);

const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 1 });
function http(port: number, method: string, urlPath: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: urlPath, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, agent: keepAlive }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const grpcClient = (port: number) => new Authorization(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: (r: unknown, cb: (e: Error | null, v: { status?: { code?: number } }) => void) => void };
const agentClient = grpcClient(agentGrpc.port);
const noopClient = grpcClient(noopGrpcPort);
const grpcCheck = (c: typeof agentClient, headers: Record<string, string>): Promise<number> =>
  new Promise((resolve, reject) => c.Check({ attributes: { request: { http: { method: 'GET', host: 'svc.bench', path, headers } } } }, (e, v) => (e ? reject(e) : resolve(v.status?.code ?? -1))));

const line = { 'x-original-method': 'GET', 'x-original-uri': path, 'x-original-host': 'svc.bench' };
const fwd = { ...line, 'x-identity': member.id };
const jsonBody = JSON.stringify({ method: 'GET', host: 'svc.bench', path, headers: { 'x-identity': member.id } });
interface Pair {
  readonly name: string;
  readonly agent: () => Promise<unknown>;
  readonly baseline: () => Promise<unknown>;
  readonly expect: unknown;
}
const pairs: Pair[] = [
  { name: 'HTTP forward-auth (trusted header)', agent: () => http(agentPort, 'GET', '/v1/forward-auth', fwd), baseline: () => http(noopPort, 'GET', '/v1/forward-auth', fwd), expect: 200 },
  { name: 'HTTP forward-auth (ES256 JWT, remembered: the default)', agent: () => http(agentPort, 'GET', '/v1/forward-auth', { ...line, authorization: `Bearer ${token}` }), baseline: () => http(noopPort, 'GET', '/v1/forward-auth', { ...line, authorization: `Bearer ${token}` }), expect: 200 },
  { name: 'HTTP forward-auth (ES256 JWT, verified every request)', agent: () => http(uncachedPort, 'GET', '/v1/forward-auth', { ...line, authorization: `Bearer ${token}` }), baseline: () => http(noopPort, 'GET', '/v1/forward-auth', { ...line, authorization: `Bearer ${token}` }), expect: 200 },
  { name: 'JSON POST /v1/check', agent: () => http(agentPort, 'POST', '/v1/check', {}, jsonBody), baseline: () => http(noopPort, 'POST', '/v1/check', {}, jsonBody), expect: 200 },
  { name: 'gRPC ext_authz Check', agent: () => grpcCheck(agentClient, { 'x-identity': member.id }), baseline: () => grpcCheck(noopClient, { 'x-identity': member.id }), expect: 0 },
];

const sanity = await pairs[0]!.agent();
if (sanity !== 200) throw new Error(`the agent denied the benchmark's request (${String(sanity)})`);

async function timed(f: () => Promise<unknown>, n: number, expectValue: unknown, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const v = await f();
    into.push(Number(process.hrtime.bigint() - t) / 1000);
    if (v !== expectValue) throw new Error(`unexpected answer ${String(v)} (expected ${String(expectValue)})`);
  }
}

const rows: Row[] = [];
const verdicts: string[] = [];
for (const p of pairs) {
  progress(`${p.name}: warm-up, then ${ROUNDS} rounds of ${Math.ceil(REQUESTS / ROUNDS)} requests each side`);
  await timed(p.agent, WARMUP, p.expect, []);
  await timed(p.baseline, WARMUP, p.expect, []);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await timed(p.agent, Math.ceil(REQUESTS / ROUNDS), p.expect, a);
    await timed(p.baseline, Math.ceil(REQUESTS / ROUNDS), p.expect, b);
  }
  a.sort((x, y) => x - y);
  b.sort((x, y) => x - y);
  rows.push({
    check: p.name,
    'agent p50 µs': percentile(a, 50),
    'agent p99 µs': percentile(a, 99),
    'no-op p50 µs': percentile(b, 50),
    'no-op p99 µs': percentile(b, 99),
    'p50 ratio': percentile(a, 50) / percentile(b, 50),
    'p99 ratio': percentile(a, 99) / percentile(b, 99),
    'added p50 µs': percentile(a, 50) - percentile(b, 50),
  });
  verdicts.push(`${p.name}: the agent answers in ${percentile(a, 50).toFixed(0)} µs p50 (${(percentile(a, 50) / percentile(b, 50)).toFixed(2)}× a no-op server of the same kind, +${(percentile(a, 50) - percentile(b, 50)).toFixed(0)} µs)`);
}

publish(
  {
    name: 'enforcement agent: a check through livescope-enforcer vs a no-op server',
    command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- agent',
    setup: `${IDENTITIES.toLocaleString()} identities held; ${REQUESTS.toLocaleString()} requests per side per check kind in ${ROUNDS} alternating rounds after ${WARMUP.toLocaleString()} warm-up; one client, one request in flight, keep-alive, loopback; client and servers in one process; identity from a trusted header unless noted; route table of one route; load average at the end ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (shared machine: the ratios, not the µs, are the result)`,
    rows,
    verdicts,
  },
  args,
);

agentClient.close();
noopClient.close();
keepAlive.destroy();
agentGrpc.server.forceShutdown();
noopGrpc.forceShutdown();
agentHttp.close();
uncachedHttp.close();
noopHttp.close();
