import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { CheckApi, type AgentMetrics } from './AgentMetrics.js';
import { decisionHeaders, type CheckInput, type CheckResult, type CheckService } from './CheckService.js';
import type { Headers } from './IdentityResolver.js';
import type { ScopeWatch } from './ScopeWatch.js';

export interface HttpApiOptions {
  readonly checks: CheckService;
  readonly watch: ScopeWatch;
  readonly metrics: AgentMetrics;
  readonly registry: Registry;
  readonly ready: () => { ok: boolean; checks: Record<string, string> };
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
  /** The header family that describes the original request of a forward-auth check. */
  readonly forwardHeaders: 'x-original' | 'x-forwarded';
}

const MAX_WATCH_IDS = 100;
const MAX_HEADERS = 64;

const CheckBody = z.strictObject({
  method: z.string().max(16).optional(),
  host: z.string().max(300).optional(),
  path: z.string().max(65_536).optional(),
  action: z.string().max(256).optional(),
  resource: z.string().max(1024).optional(),
  headers: z
    .record(z.string().max(64), z.string().max(16 * 1024))
    .refine((h) => Object.keys(h).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`)
    .optional(),
  identity: z.string().max(256).optional(),
  session: z.string().max(256).optional(),
});
type CheckBody = z.output<typeof CheckBody>;

/**
 * The agent's HTTP API on node:http (no framework: a forward-auth check is on every proxied request):
 *
 * - `/v1/forward-auth` (any method): NGINX `auth_request`, Traefik ForwardAuth, Kong. The original
 *   request comes from `X-Original-Method`/`-URI`/`-Host` (NGINX) or `X-Forwarded-Method`/`-Uri`/`-Host`
 *   (Traefik), the credentials from the forwarded headers. 200 allows, 403 denies; both carry
 *   `x-livescope-decision`, `-code`, `-reason`, `-version`.
 * - `POST /v1/check`, `POST /v1/check/batch`: JSON decisions for services in any language.
 * - `GET /v1/watch`: server-sent events of scopes (ScopeWatch).
 * - `/metrics`, `/healthz`, `/readyz`.
 */
export function createHttpApi(o: HttpApiOptions): Server {
  const server = createServer((req, res) => {
    void route(o, req, res).catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

async function route(o: HttpApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  switch (path) {
    case '/v1/forward-auth':
      return forwardAuth(o, req, res);
    case '/v1/check':
      if (req.method !== 'POST') return send(res, 405, { error: 'method-not-allowed', reason: 'POST a JSON check' }, { allow: 'POST' });
      return jsonCheck(o, req, res, false);
    case '/v1/check/batch':
      if (req.method !== 'POST') return send(res, 405, { error: 'method-not-allowed', reason: 'POST a JSON batch' }, { allow: 'POST' });
      return jsonCheck(o, req, res, true);
    case '/v1/watch': {
      if (req.method !== 'GET') return send(res, 405, { error: 'method-not-allowed', reason: 'GET the stream' }, { allow: 'GET' });
      const ids = new URLSearchParams(q < 0 ? '' : url.slice(q + 1)).getAll('identity');
      if (ids.length > MAX_WATCH_IDS || ids.some((id) => !/^[\x21-\x7e]{1,256}$/.test(id))) return send(res, 400, { error: 'bad-request', reason: `at most ${MAX_WATCH_IDS} identity parameters, each an identity id` });
      if (!o.watch.open(res, ids.length > 0 ? ids : undefined)) return send(res, 503, { error: 'too-many-watchers', reason: 'the agent serves its maximum of watch streams' });
      return;
    }
    case '/metrics':
      res.setHeader('content-type', o.registry.contentType);
      res.end(await o.registry.metrics());
      return;
    case '/healthz':
      res.end('ok\n');
      return;
    case '/readyz': {
      const r = o.ready();
      return send(res, r.ok ? 200 : 503, r);
    }
    default:
      return send(res, 404, { error: 'not-found' });
  }
}

function forwardAuth(o: HttpApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const h = req.headers as Headers;
  // Only the configured family: a missing header is a bad request, never a fallback to the
  // auth request's own method or Host (which describe the proxy's subrequest, not the client's).
  const one = (name: string): string => {
    const v = h[name];
    return typeof v === 'string' ? v : '';
  };
  const f = o.forwardHeaders;
  // The body of the original request is never read (NGINX does not send it; Traefik may).
  req.resume();
  const input: CheckInput = { method: one(`${f}-method`), host: one(`${f}-host`), path: one(f === 'x-original' ? 'x-original-uri' : 'x-forwarded-uri'), headers: h };
  return o.checks.check(input).then((r) => {
    observe(o, CheckApi.forwardAuth, r, started);
    res.writeHead(r.allowed ? 200 : 403, { ...decisionHeaders(r), 'content-length': '0' });
    res.end();
  });
}

async function jsonCheck(o: HttpApiOptions, req: IncomingMessage, res: ServerResponse, batch: boolean): Promise<void> {
  const api = batch ? CheckApi.batch : CheckApi.json;
  const refuse = (status: number, reason: string, text: string): void => {
    o.metrics.refused.inc({ api, reason });
    send(res, status, { error: reason, reason: text });
  };
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    req.resume();
    return refuse(415, 'unsupported-media-type', 'send application/json');
  }
  const body = await readBody(req, o.maxBodyBytes);
  if (body === 'too-large') {
    res.setHeader('connection', 'close');
    return refuse(413, 'body-too-large', `the body is larger than ${o.maxBodyBytes} bytes`);
  }
  if (body === 'aborted') return;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return refuse(400, 'malformed-json', 'the body is not JSON');
  }
  const started = process.hrtime.bigint();
  if (!batch) {
    const p = CheckBody.safeParse(value);
    if (!p.success) return refuse(400, 'bad-request', describe(p.error));
    const r = await o.checks.check(toInput(p.data));
    observe(o, api, r, started);
    return send(res, 200, r);
  }
  const b = z.strictObject({ checks: z.array(z.unknown()).min(1) }).safeParse(value);
  if (!b.success) return refuse(400, 'bad-request', describe(b.error));
  if (b.data.checks.length > o.maxBatch) return refuse(413, 'batch-too-large', `at most ${o.maxBatch} checks per batch`);
  const parsed = b.data.checks.map((c) => CheckBody.safeParse(c));
  const bad = parsed.findIndex((p) => !p.success);
  if (bad >= 0) return refuse(400, 'bad-request', `checks.${bad}: ${describe(parsed[bad]!.error!)}`);
  const results: CheckResult[] = [];
  for (const p of parsed) {
    const r = await o.checks.check(toInput(p.data!));
    o.metrics.checks.inc({ api, outcome: r.code });
    results.push(r);
  }
  o.metrics.checkSeconds.observe({ api }, Number(process.hrtime.bigint() - started) / 1e9);
  send(res, 200, { results });
}

function toInput(b: CheckBody): CheckInput {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    ...(b.method !== undefined ? { method: b.method } : {}),
    ...(b.host !== undefined ? { host: b.host } : {}),
    ...(b.path !== undefined ? { path: b.path } : {}),
    ...(b.action !== undefined ? { action: b.action } : {}),
    ...(b.resource !== undefined ? { resource: b.resource } : {}),
    ...(b.identity !== undefined ? { identity: b.identity } : {}),
    ...(b.session !== undefined ? { session: b.session } : {}),
    headers,
  };
}

function describe(e: z.ZodError): string {
  // Paths and messages only: zod may quote the input, which can hold credentials.
  return e.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`)
    .join('; ');
}

function observe(o: HttpApiOptions, api: CheckApi, r: CheckResult, started: bigint): void {
  o.metrics.checks.inc({ api, outcome: r.code });
  o.metrics.checkSeconds.observe({ api }, Number(process.hrtime.bigint() - started) / 1e9);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
      done = true;
    });
    req.on('error', () => {
      if (!done) resolve('aborted');
      done = true;
    });
    req.on('aborted', () => {
      if (!done) resolve('aborted');
      done = true;
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
