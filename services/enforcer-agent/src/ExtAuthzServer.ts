import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CheckApi, type AgentMetrics } from './AgentMetrics.js';
import { decisionHeaders, type CheckResult, type CheckService } from './CheckService.js';

/** The version of Envoy's API definitions on Maven Central (`io.envoyproxy.controlplane:api`). */
export const ENVOY_API_VERSION = '1.0.49';
export const EXTERNAL_AUTH_PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** google.rpc.Code */
const OK = 0;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/**
 * The folder holding Envoy's .proto files: `dir` when given, else the cache folder, fetched once
 * through Maven (scripts/fetch-envoy-protos.sh) when it is not complete yet.
 */
export async function envoyProtoDir(dir?: string): Promise<string> {
  if (dir !== undefined) {
    if (!existsSync(join(dir, EXTERNAL_AUTH_PROTO))) throw new Error(`${dir} has no ${EXTERNAL_AUTH_PROTO}`);
    return dir;
  }
  const home = process.env.LIVESCOPE_HOME ?? join(homedir(), '.cache', 'livescope');
  const cached = join(home, `envoy-api-${ENVOY_API_VERSION}`);
  if (existsSync(join(cached, '.complete')) && existsSync(join(cached, EXTERNAL_AUTH_PROTO))) return cached;
  const script = fileURLToPath(new URL('../scripts/fetch-envoy-protos.sh', import.meta.url));
  const { stdout } = await promisify(execFile)('bash', [script, cached], { env: { ...process.env, LIVESCOPE_ENVOY_API_VERSION: ENVOY_API_VERSION }, timeout: 15 * 60_000 });
  return stdout.trim().split('\n').pop() ?? cached;
}

/** Loads `envoy.service.auth.v3` (and what it imports) from Envoy's published definitions. */
export function loadExtAuthz(protoDir: string): grpc.GrpcObject {
  const def = protoLoader.loadSync(EXTERNAL_AUTH_PROTO, { includeDirs: [protoDir], keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

export function authorizationService(pkg: grpc.GrpcObject): grpc.ServiceClientConstructor {
  const envoy = pkg.envoy as grpc.GrpcObject;
  const auth = ((envoy.service as grpc.GrpcObject).auth as grpc.GrpcObject).v3 as grpc.GrpcObject;
  return auth.Authorization as grpc.ServiceClientConstructor;
}

/** The parts of a CheckRequest the agent reads (proto-loader camelCase). */
interface CheckRequest {
  attributes?: {
    source?: { principal?: string };
    request?: { http?: { method?: string; host?: string; path?: string; headers?: Record<string, string>; headerMap?: { headers?: { key?: string; value?: string; rawValue?: Buffer }[] } } };
  };
}

const header = (key: string, value: string) => ({ header: { key, value } });

function toResponse(r: CheckResult): object {
  const headers = Object.entries(decisionHeaders(r)).map(([k, v]) => header(k, v));
  if (r.allowed) return { status: { code: OK }, okResponse: { headers } };
  return {
    status: { code: r.code === 'unauthenticated' ? UNAUTHENTICATED : PERMISSION_DENIED, message: r.code },
    deniedResponse: { status: { code: 'Forbidden' }, headers: [...headers, header('content-type', 'application/json')], body: JSON.stringify({ error: 'forbidden', code: r.code, reason: r.reason }) },
  };
}

/**
 * Envoy's external authorization (`envoy.service.auth.v3.Authorization/Check`): the HTTP request
 * Envoy describes is checked like a forward-auth request; the mTLS peer's principal (Envoy
 * verified it) is the SPIFFE source. Allowed: status OK with `ok_response` headers; denied:
 * PERMISSION_DENIED (UNAUTHENTICATED without an identity) and a 403 `denied_response`.
 */
export async function startExtAuthzServer(o: { checks: CheckService; metrics: AgentMetrics; protoDir: string; host: string; port: number }): Promise<{ server: grpc.Server; port: number }> {
  const service = authorizationService(loadExtAuthz(o.protoDir)).service;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024 });
  server.addService(service, {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, object>, callback: grpc.sendUnaryData<object>) => {
      const started = process.hrtime.bigint();
      const http = call.request.attributes?.request?.http;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(http?.headers ?? {})) headers[k.toLowerCase()] = v;
      for (const h of http?.headerMap?.headers ?? []) if (h.key) headers[h.key.toLowerCase()] = h.value ?? h.rawValue?.toString('utf8') ?? '';
      const principal = call.request.attributes?.source?.principal;
      o.checks
        .check({ method: http?.method ?? '', host: http?.host ?? '', path: http?.path ?? '', headers, ...(principal ? { peerPrincipal: principal } : {}) })
        .then((r) => {
          o.metrics.checks.inc({ api: CheckApi.extAuthz, outcome: r.code });
          o.metrics.checkSeconds.observe({ api: CheckApi.extAuthz }, Number(process.hrtime.bigint() - started) / 1e9);
          callback(null, toResponse(r));
        })
        .catch((e: unknown) => callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.name : 'error' }));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port };
}

/** Stops accepting calls, lets those in flight finish within `graceMs`, then cuts the rest. */
export function stopExtAuthzServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
