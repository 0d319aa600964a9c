import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { identityEvent, type LivescopeEventInput } from '@livescope/contracts';
import { authorizationService, envoyProtoDir, loadExtAuthz } from '@livescope/enforcer-agent';
import { PipelineFixture, WorkerProcess, waitFor } from '@livescope/testkit';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, freePort, NginxProcess } from './support/agentProcess.js';

/**
 * livescope-enforcer with the real parts: Debian's nginx (auth_request) in front of a small
 * upstream, the agent as its auth backend, a scope worker, and a responder's signed order on the
 * broker. Envoy's external authorization API is exercised by a real gRPC client speaking Envoy's
 * published proto definitions.
 */
const missing = NginxProcess.available();
let fx: PipelineFixture;
let worker: WorkerProcess;
let agent: AgentProcess;
let nginx: NginxProcess;
let upstream: Server;
let dir: string;
let nginxPort = 0;
let grpcPort = 0;
let key: CryptoKey;
let upstreamHits = 0;
const ISSUER = 'https://issuer.e2e';
const AUDIENCE = 'shop';
const identity = (): string => `sa-shop-${fx.id}`;

beforeAll(async () => {
  if (missing) throw new Error(missing);
  fx = await new PipelineFixture(3).open();
  worker = new WorkerProcess('agent-e2e-worker', fx.workerEnv()).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  const t = Date.now();
  await fx.publish([
    identityEvent('identity.created', identity(), { kind: 'workload', name: 'shop', namespace: 'shop', owner: 'team-shop' }, { id: `c-${fx.id}`, time: t }),
    identityEvent('entitlement.granted', identity(), { grantId: 'g1', role: 'orders-reader', permissions: [{ action: 'orders:read', resource: 'orders/42', access: 'read' }] }, { id: `g-${fx.id}`, time: t }),
  ]);
  upstream = createServer((_req, res) => {
    upstreamHits++;
    res.end('upstream ok\n');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const keys = await generateKeyPair('ES256', { extractable: true });
  key = keys.privateKey;
  agent = new AgentProcess({
    ...fx.workerEnv({ LIVESCOPE_LOG_LEVEL: 'info' }),
    LIVESCOPE_ENFORCER_ID: `agent-e2e-${fx.id}`,
    LIVESCOPE_ENFORCER_TRUSTED_KEYS: JSON.stringify({ [fx.keys.kid]: fx.keys.publicKey }),
    LIVESCOPE_AGENT_PORT: '0',
    LIVESCOPE_AGENT_GRPC_PORT: '0',
    LIVESCOPE_AGENT_IDENTITY_SOURCES: 'jwt',
    LIVESCOPE_AGENT_JWKS: JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'e2e', alg: 'ES256' }] }),
    LIVESCOPE_AGENT_JWT_ISSUER: ISSUER,
    LIVESCOPE_AGENT_JWT_AUDIENCE: AUDIENCE,
    LIVESCOPE_AGENT_ROUTES: JSON.stringify([{ methods: ['GET'], path: '/orders/{id}', action: 'orders:read', resource: 'orders/{id}' }]),
  });
  const ports = await agent.start();
  grpcPort = ports.grpcPort!;
  await waitFor('the identity at the agent', async () => (await agentCheck(ports.httpPort)).allowed || undefined, 60_000, 100);
  dir = mkdtempSync(join(tmpdir(), 'livescope-nginx-'));
  nginxPort = await freePort();
  nginx = new NginxProcess(dir, nginxConfig(dir, nginxPort, ports.httpPort, (upstream.address() as { port: number }).port));
  await nginx.start(nginxPort);
});

afterAll(async () => {
  await nginx?.stop();
  const code = await agent?.stop();
  upstream?.close();
  await worker?.stop();
  await fx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Graceful shutdown: SIGTERM ends the agent with exit code 0.
  if (agent) expect(code).toBe(0);
});

/** The NGINX configuration docs/enforcement.md shows, on loopback ports. */
function nginxConfig(prefix: string, port: number, agentPort: number, upstreamPort: number): string {
  return `worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /_livescope_check {
      internal;
      proxy_pass http://127.0.0.1:${agentPort}/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-Host $host;
    }
    location / {
      auth_request /_livescope_check;
      auth_request_set $livescope_code $upstream_http_x_livescope_code;
      add_header X-Livescope-Code $livescope_code always;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
  }
}
`;
}

const token = (): Promise<string> => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'e2e' }).setSubject(identity()).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').sign(key);

async function agentCheck(port: number): Promise<{ allowed: boolean }> {
  const r = await fetch(`http://127.0.0.1:${port}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'GET', path: '/orders/42', headers: { authorization: `Bearer ${await token()}` } }) });
  return (await r.json()) as { allowed: boolean };
}

/** A GET through nginx, the path sent as written (fetch would resolve dot segments itself). */
async function throughNginx(path = '/orders/42'): Promise<{ status: number; code: string | undefined; body: string }> {
  const authorization = `Bearer ${await token()}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: nginxPort, path, headers: { authorization } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-livescope-code'] as string | undefined, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const order = (kind: 'quarantine', orderId: string): LivescopeEventInput =>
  ({ specversion: '1.0', id: `o-${orderId}`, type: 'order.issued', source: 'control-plane', time: new Date().toISOString(), data: { orderId, kind, target: { identityId: identity() }, reason: 'incident e2e: suspicious calls', actor: 'responder@example.com' } });
const lift = (orderId: string): LivescopeEventInput => ({ specversion: '1.0', id: `l-${orderId}`, type: 'order.lifted', source: 'control-plane', time: new Date().toISOString(), data: { orderId, actor: 'responder@example.com' } });

describe('livescope-enforcer behind nginx auth_request', () => {
  it('passes an allowed request, denies it within a bound after a quarantine order, passes it again after the lift', async () => {
    const before = upstreamHits;
    expect(await throughNginx()).toMatchObject({ status: 200, body: 'upstream ok\n' });
    expect(upstreamHits).toBe(before + 1);
    // Never mapped, never reaches the upstream; a traversal is refused, not normalised.
    expect(await throughNginx('/admin')).toMatchObject({ status: 403, code: 'unmapped' });
    expect(await throughNginx('/orders/%2e%2e/42')).toMatchObject({ status: 403, code: 'path-traversal' });
    expect(upstreamHits).toBe(before + 1);

    const orderId = `q-${fx.id}`;
    await fx.publish([order('quarantine', orderId)]);
    const denied = await waitFor('nginx to deny after the quarantine order (bound 30 s)', async () => {
      const r = await throughNginx();
      return r.status === 403 ? r : undefined;
    }, 30_000, 50);
    expect(denied.code).toMatch(/not-in-scope|inactive-identity/);

    await fx.publish([lift(orderId)]);
    await waitFor('nginx to pass again after the lift (bound 30 s)', async () => (await throughNginx()).status === 200 || undefined, 30_000, 50);
    expect(nginx.errorLog()).not.toMatch(/\[(crit|alert|emerg)\]/);
  });
});

describe('livescope-enforcer as Envoy external authorization (gRPC)', () => {
  it('answers Check: OK with ok_response when allowed, PERMISSION_DENIED with a 403 denied_response when not', async () => {
    const Authorization = authorizationService(loadExtAuthz(await envoyProtoDir()));
    const client = new Authorization(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    type Response = { status?: { code?: number; message?: string }; okResponse?: { headers?: { header?: { key?: string; value?: string } }[] }; deniedResponse?: { status?: { code?: string }; body?: string; headers?: { header?: { key?: string; value?: string } }[] } };
    const check = async (path: string, method = 'GET'): Promise<Response> => {
      const request = { attributes: { request: { http: { method, host: 'shop.internal', path, headers: { authorization: `Bearer ${await token()}`, ':path': path } } } } };
      return new Promise<Response>((resolve, reject) => (client as unknown as { Check: (r: unknown, cb: (e: Error | null, v: Response) => void) => void }).Check(request, (e, v) => (e ? reject(e) : resolve(v))));
    };
    try {
      const ok = await waitFor('the lift to reach the gRPC API too', async () => {
        const r = await check('/orders/42');
        return r.status?.code === 0 ? r : undefined;
      }, 30_000, 50);
      expect(ok.okResponse?.headers?.find((h) => h.header?.key === 'x-livescope-decision')?.header?.value).toBe('allowed');
      const denied = await check('/orders/42', 'DELETE');
      expect(denied.status?.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(denied.deniedResponse?.status?.code).toBe('Forbidden');
      expect(JSON.parse(denied.deniedResponse?.body ?? '{}')).toMatchObject({ code: 'unmapped' });
      const traversal = await check('/orders/../42');
      expect(traversal.status?.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(traversal.deniedResponse?.headers?.find((h) => h.header?.key === 'x-livescope-code')?.header?.value).toBe('path-traversal');
    } finally {
      client.close();
    }
  });
});
