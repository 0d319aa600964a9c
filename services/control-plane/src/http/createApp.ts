import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { describeIssues } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { hasAnyRole, type Principal } from '../auth/roles.js';
import { AuthenticationError } from '../auth/TokenVerifier.js';
import { ControlPlaneError } from '../ControlPlaneError.js';
import type { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import { RETRY_MS, serveEventStream } from './EventStream.js';
import { EventStreamBody, HIJACKED, TextBody, type RouteDef } from './RouteDef.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller (set before the handler on authenticated routes). */
    principal: Principal | undefined;
  }
}

export interface AppDeps {
  readonly routes: readonly RouteDef[];
  readonly verifier: { verify(authorization: string | undefined): Promise<Principal> };
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  readonly rateLimitPerMinute: number;
  /** Check every JSON response against its schema (tests): a mismatch answers 500. */
  readonly validateResponses?: boolean;
  /** Directory handlers may send files from (`reply.sendFile`): the built web console. No routes are added for it. */
  readonly staticRoot?: string | undefined;
  /** Server-Sent Events streams are closed after this long (clients resume with Last-Event-ID). Default 1 h. */
  readonly eventStreamMaxMs?: number;
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

function parseOrThrow<S extends z.ZodType>(schema: S | undefined, value: unknown, prefix: string): z.infer<S> {
  if (!schema) return undefined as z.infer<S>;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const { message, paths } = describeIssues(r.error);
  const full = paths.map((p) => (prefix ? `${prefix}.${p}` : p));
  throw new ControlPlaneError('INVALID_REQUEST', `invalid ${prefix || 'body'}: ${prefix ? message.replace(/(^|; )/g, `$1${prefix}.`) : message}`, { paths: full });
}

const errorBody = (e: ControlPlaneError): { error: { code: string; message: string; paths?: string[] } } => ({ error: { code: e.code, message: e.message, ...(e.paths.length ? { paths: [...e.paths] } : {}) } });

/**
 * The Fastify app of the route table: bearer-token verification and role checks before the handler
 * (onRequest), rate limiting per verified subject, zod validation of path, query and body (400 with
 * the failing paths), one error format, request metrics and one log line per call.
 */
export async function createApp(deps: AppDeps): Promise<{ app: FastifyInstance; registered: RegisteredRoute[] }> {
  const log = deps.logger.child({ component: 'http' });
  const fastifyLog: FastifyBaseLogger = log;
  // One line per request is written by the onResponse hook below, with the route template and subject.
  const app = Fastify({ loggerInstance: fastifyLog, logController: new LogController({ disableRequestLogging: true }), exposeHeadRoutes: false, bodyLimit: 1024 * 1024, forceCloseConnections: true, return503OnClosing: true });
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (opts) => {
    for (const m of Array.isArray(opts.method) ? opts.method : [opts.method]) registered.push({ method: String(m).toUpperCase(), url: opts.url });
  });
  app.decorateRequest('principal', undefined);

  await app.register(rateLimit, {
    global: true,
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (req) => (req.principal ? `sub:${req.principal.sub}` : `ip:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => new ControlPlaneError('RATE_LIMITED', `rate limit of ${ctx.max} requests per minute exceeded; retry in ${ctx.after}`),
  });

  if (deps.staticRoot !== undefined) await app.register(fastifyStatic, { root: deps.staticRoot, serve: false });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let e: ControlPlaneError;
    if (ControlPlaneError.is(err)) e = err;
    else {
      const status = (err as FastifyError).statusCode;
      if (status !== undefined && status >= 400 && status < 500) e = new ControlPlaneError(status === 404 ? 'NOT_FOUND' : status === 429 ? 'RATE_LIMITED' : 'INVALID_REQUEST', err.message);
      else {
        log.error({ err: err.message, stack: err.stack, route: req.routeOptions.url }, 'unhandled error');
        e = new ControlPlaneError('INTERNAL', 'internal error');
      }
    }
    if (err instanceof AuthenticationError) deps.metrics.authFailures.inc({ reason: err.reason });
    else if (e.code === 'FORBIDDEN') deps.metrics.authFailures.inc({ reason: 'forbidden' });
    void reply.code(e.httpStatus).type('application/json').send(errorBody(e));
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(errorBody(new ControlPlaneError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  });
  app.addHook('onResponse', (req, reply, done) => {
    const routeLabel = req.routeOptions.url ?? 'unmatched';
    deps.metrics.requests.inc({ route: routeLabel, method: req.method, status: String(reply.statusCode) });
    deps.metrics.requestSeconds.observe({ route: routeLabel, method: req.method }, reply.elapsedTime / 1000);
    const line = { method: req.method, route: routeLabel, status: reply.statusCode, ms: Math.round(reply.elapsedTime), sub: req.principal?.sub };
    if (routeLabel.startsWith('/v1/')) log.info(line, 'request');
    else log.debug(line, 'request');
    done();
  });

  for (const def of deps.routes) {
    const isPublic = def.roles === 'public';
    const roles = isPublic ? [] : def.roles;
    app.route({
      method: def.method,
      url: def.path,
      ...(isPublic ? { config: { rateLimit: false } } : {}),
      ...(isPublic
        ? {}
        : {
            onRequest: async (req) => {
              const principal = await deps.verifier.verify(req.headers.authorization);
              req.principal = principal;
              if (!hasAnyRole(principal, roles)) throw new ControlPlaneError('FORBIDDEN', `${def.method} ${def.path} needs one of the roles ${[...roles, 'admin'].join(', ')}`);
            },
          }),
      handler: async (req, reply) => {
        const params = parseOrThrow(def.params, req.params, 'path');
        const query = parseOrThrow(def.query, req.query, 'query');
        const body = parseOrThrow(def.body, req.body, '');
        const result = await def.handler({ params, query, body, principal: req.principal, request: req, reply });
        if (result === HIJACKED) return reply;
        if (result instanceof EventStreamBody) {
          const { intro, run } = result.source;
          await serveEventStream(reply, { maxMs: deps.eventStreamMaxMs ?? 3_600_000, retryMs: RETRY_MS, intro, route: def.path, metrics: deps.metrics, logger: deps.logger }, run);
          return reply;
        }
        if (result instanceof TextBody) return reply.type(result.contentType).send(result.text);
        if (deps.validateResponses && def.success.schema) {
          const check = def.success.schema.safeParse(result);
          if (!check.success) {
            log.error({ route: def.path, issues: describeIssues(check.error).message }, 'response does not match its schema');
            throw new ControlPlaneError('INTERNAL', `response of ${def.id} does not match its schema: ${describeIssues(check.error).message}`);
          }
        }
        if (reply.statusCode === 200) void reply.code(def.success.status);
        return reply.type(def.success.contentType ?? 'application/json').send(result);
      },
    });
  }
  return { app, registered };
}
