import { randomUUID } from 'node:crypto';
import fastifyStatic from '@fastify/static';
import { describeIssues } from '@livescope/contracts';
import { livescopeTracer, traceContextOf, type Logger } from '@livescope/transport';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { hasAnyRole, type Principal } from '../auth/roles.js';
import { AuthenticationError } from '../auth/TokenVerifier.js';
import { ControlPlaneError } from '../ControlPlaneError.js';
import type { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';
import { addressKey } from './addressKey.js';
import { bearerChallenge, controlPlaneErrorOf, errorBody, PROBLEM_CONTENT_TYPE } from './errorAnswer.js';
import { RETRY_MS, serveEventStream } from './EventStream.js';
import { RateLimiter, type RateTake } from './RateLimiter.js';
import { EventStreamBody, HIJACKED, TextBody, type RouteDef } from './RouteDef.js';
import { StreamSlots } from './StreamSlots.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller (set before the handler on authenticated routes). */
    principal: Principal | undefined;
    /** The API request's server span (a no-op one when tracing is off), ended with the response; none on the open routes. */
    traceSpan: Span | undefined;
  }
}

const tracer = livescopeTracer('@livescope/control-plane');

/** Requests per minute each budget allows (see `LIVESCOPE_API_RATE_LIMIT_*`). */
export interface RateLimits {
  /** Authenticated requests per token subject, counted once the token is accepted. */
  readonly subjectPerMinute: number;
  /** Requests per client address without an accepted token, counted before the token is checked. */
  readonly unauthenticatedPerMinute: number;
  /** Requests per client address to the open routes (probes, metrics, the console files). */
  readonly publicPerMinute: number;
}

export interface AppDeps {
  readonly routes: readonly RouteDef[];
  readonly verifier: { verify(authorization: string | undefined): Promise<Principal> };
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  readonly rateLimits: RateLimits;
  /** Proxies whose `X-Forwarded-For` is believed (addresses, CIDR blocks, proxy-addr range names); default none. */
  readonly trustedProxies?: readonly string[];
  /** Concurrent event streams per token subject. Default 8. */
  readonly eventStreamsPerSubject?: number;
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

/** Which budget refused a request (the `budget` label of `livescope_control_plane_rate_limited_total`). */
type Budget = 'unauthenticated' | 'subject' | 'public' | 'streams';

/** Suggested wait before opening a stream again when a subject holds all its streams, in seconds. */
const STREAM_CAP_RETRY_S = 5;

function parseOrThrow<S extends z.ZodType>(schema: S | undefined, value: unknown, prefix: string): z.infer<S> {
  if (!schema) return undefined as z.infer<S>;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const { message, paths } = describeIssues(r.error);
  const full = paths.map((p) => (prefix ? `${prefix}.${p}` : p));
  throw new ControlPlaneError('INVALID_REQUEST', `invalid ${prefix || 'body'}: ${prefix ? message.replace(/(^|; )/g, `$1${prefix}.`) : message}`, { paths: full });
}

/**
 * The Fastify app of the route table. Per request, in this order:
 * 1. a correlation id (`x-request-id`, and `correlationId` in error bodies and log lines);
 * 2. on the open routes, the public budget of the client address;
 * 3. on authenticated routes, the unauthenticated budget of the client address is charged
 *    *before* the bearer token is checked — so a flood of guessed or forged tokens is answered 429
 *    without a signature verification once the address has spent it — and given back when the token
 *    is accepted; then the budget of the token subject, whatever its address; then the role check;
 * 4. zod validation of path, query, headers and body (400 with the failing paths);
 * 5. the handler; event streams first take one of the subject's stream slots and end at the
 *    token's expiry.
 * One error format, RFC 9457 problem details (5xx bodies never quote a dependency's error; a 401 carries a Bearer challenge), request metrics and one log line per call.
 */
export async function createApp(deps: AppDeps): Promise<{ app: FastifyInstance; registered: RegisteredRoute[] }> {
  const log = deps.logger.child({ component: 'http' });
  const fastifyLog: FastifyBaseLogger = log;
  // One line per request is written by the onResponse hook below, with the route template and subject.
  const app = Fastify({
    loggerInstance: fastifyLog,
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
    genReqId: () => randomUUID(),
    trustProxy: deps.trustedProxies?.length ? [...deps.trustedProxies] : false,
  });
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (opts) => {
    for (const m of Array.isArray(opts.method) ? opts.method : [opts.method]) registered.push({ method: String(m).toUpperCase(), url: opts.url });
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('traceSpan', undefined);

  const limiters: Readonly<Record<Exclude<Budget, 'streams'>, RateLimiter>> = {
    unauthenticated: new RateLimiter(deps.rateLimits.unauthenticatedPerMinute),
    subject: new RateLimiter(deps.rateLimits.subjectPerMinute),
    public: new RateLimiter(deps.rateLimits.publicPerMinute),
  };
  const streams = new StreamSlots(deps.eventStreamsPerSubject ?? 8);
  const refuse = (reply: FastifyReply, budget: Budget, retryAfterS: number, message: string): ControlPlaneError => {
    deps.metrics.rateLimited.inc({ budget });
    void reply.header('retry-after', String(retryAfterS));
    return new ControlPlaneError('RATE_LIMITED', message);
  };
  const limited = (reply: FastifyReply, budget: Exclude<Budget, 'streams'>, t: RateTake, what: string): ControlPlaneError => {
    const s = Math.max(1, Math.ceil(t.retryAfterMs / 1000));
    void reply.header('x-ratelimit-limit', String(t.limit)).header('x-ratelimit-remaining', '0');
    return refuse(reply, budget, s, `rate limit of ${t.limit} requests per minute ${what} exceeded; retry in ${s} s`);
  };

  /** The public budget of the client address (open routes). */
  const publicBudget = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const t = limiters.public.take(addressKey(req.ip), Date.now());
    if (!t.allowed) throw limited(reply, 'public', t, 'per client address on the open routes');
  };
  /** Unauthenticated budget of the address before the token check, subject budget after it, then the roles. */
  const authenticate =
    (roles: RouteDef['roles'], what: string) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const address = addressKey(req.ip);
      const pre = limiters.unauthenticated.take(address, Date.now());
      if (!pre.allowed) throw limited(reply, 'unauthenticated', pre, 'per client address without an accepted token');
      let principal: Principal;
      try {
        principal = await deps.verifier.verify(req.headers.authorization);
      } catch (e) {
        deps.metrics.tokenChecks.inc({ outcome: 'refused' });
        throw e;
      }
      deps.metrics.tokenChecks.inc({ outcome: 'accepted' });
      limiters.unauthenticated.refund(address, Date.now());
      req.principal = principal;
      const t = limiters.subject.take(principal.sub, Date.now());
      if (!t.allowed) throw limited(reply, 'subject', t, 'per token subject');
      void reply.header('x-ratelimit-limit', String(t.limit)).header('x-ratelimit-remaining', String(t.remaining));
      if (roles !== 'public' && !hasAnyRole(principal, roles)) throw new ControlPlaneError('FORBIDDEN', `${what} needs one of the roles ${[...roles, 'admin'].join(', ')}`);
    };
  /** A stream slot of the caller, released when the stream ends; a stream needs a token that has not expired. */
  const openStream = (principal: Principal | undefined, reply: FastifyReply): (() => void) | undefined => {
    if (!principal) return undefined;
    if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
      throw new AuthenticationError('expired', 'the token has expired: an event stream ends when its token expires, so it needs one that has not');
    }
    const release = streams.acquire(principal.sub);
    if (!release) throw refuse(reply, 'streams', STREAM_CAP_RETRY_S, `at most ${streams.maxPerSubject} concurrent event streams per token subject; close one or retry in ${STREAM_CAP_RETRY_S} s`);
    return release;
  };

  if (deps.staticRoot !== undefined) await app.register(fastifyStatic, { root: deps.staticRoot, serve: false });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
    // One server span per API request, named after the route template; a caller's `traceparent` is
    // its parent. Probes, metrics scrapes and the console's files are not traced (noise, no order).
    const route = req.routeOptions.url;
    if (route?.startsWith('/v1/')) {
      req.traceSpan = tracer.startSpan(
        `${req.method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route } },
        traceContextOf(req.headers) ?? context.active(),
      );
    }
  });
  app.setErrorHandler((err: Error, req, reply) => {
    const e = controlPlaneErrorOf(err);
    // A dependency that is down is an operational condition (warn); anything else answered 5xx is a defect (error).
    if (e.httpStatus >= 500) log[e.classification === 'transient' ? 'warn' : 'error']({ err: e, reqId: req.id, route: req.routeOptions.url, component: e.component }, 'request failed');
    if (err instanceof AuthenticationError) deps.metrics.authFailures.inc({ reason: err.reason });
    else if (e.code === 'FORBIDDEN') deps.metrics.authFailures.inc({ reason: 'forbidden' });
    if (e.httpStatus === 401) void reply.header('www-authenticate', bearerChallenge(!(err instanceof AuthenticationError && err.reason === 'missing'), e.message));
    void reply.code(e.httpStatus).type(PROBLEM_CONTENT_TYPE).send(errorBody(e, req.id));
  });
  app.setNotFoundHandler((req, reply) => {
    // A path that exists nowhere is an unauthenticated request: it spends the address's budget.
    const t = limiters.unauthenticated.take(addressKey(req.ip), Date.now());
    const e = t.allowed ? new ControlPlaneError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`) : limited(reply, 'unauthenticated', t, 'per client address without an accepted token');
    void reply.code(e.httpStatus).type(PROBLEM_CONTENT_TYPE).send(errorBody(e, req.id));
  });
  app.addHook('onResponse', (req, reply, done) => {
    const routeLabel = req.routeOptions.url ?? 'unmatched';
    deps.metrics.requests.inc({ route: routeLabel, method: req.method, status: String(reply.statusCode) });
    deps.metrics.requestSeconds.observe({ route: routeLabel, method: req.method }, reply.elapsedTime / 1000);
    const line = { method: req.method, route: routeLabel, status: reply.statusCode, ms: Math.round(reply.elapsedTime), sub: req.principal?.sub, reqId: req.id };
    const write = (): void => (routeLabel.startsWith('/v1/') ? log.info(line, 'request') : log.debug(line, 'request'));
    const span = req.traceSpan;
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      // The request line carries the trace id (the span is active only inside the handler).
      context.with(trace.setSpan(context.active(), span), write);
      span.end();
    } else write();
    done();
  });

  for (const def of deps.routes) {
    const isPublic = def.roles === 'public';
    const isStream = def.success.contentType === 'text/event-stream';
    app.route({
      method: def.method,
      url: def.path,
      onRequest: isPublic ? publicBudget : authenticate(def.roles, `${def.method} ${def.path}`),
      handler: async (req, reply) => {
        const params = parseOrThrow(def.params, req.params, 'path');
        const query = parseOrThrow(def.query, req.query, 'query');
        const headers = parseOrThrow(def.headers, req.headers, 'header');
        const body = parseOrThrow(def.body, req.body, '');
        const release = isStream ? openStream(req.principal, reply) : undefined;
        let result: unknown;
        try {
          // The handler runs in the request span's context: its log lines and spans (the event published) belong to it.
          const run = () => def.handler({ params, query, headers, body, principal: req.principal, request: req, reply });
          result = await (req.traceSpan ? context.with(trace.setSpan(context.active(), req.traceSpan), run) : run());
        } catch (e) {
          release?.();
          throw e;
        }
        if (result instanceof EventStreamBody) {
          const { intro, run } = result.source;
          try {
            await serveEventStream(reply, { maxMs: deps.eventStreamMaxMs ?? 3_600_000, endsAtMs: req.principal?.expiresAt, retryMs: RETRY_MS, intro, route: def.path, requestId: req.id, metrics: deps.metrics, logger: deps.logger }, run);
          } finally {
            release?.();
          }
          return reply;
        }
        release?.();
        if (result === HIJACKED) return reply;
        if (result instanceof TextBody) return reply.type(result.contentType).send(result.text);
        if (deps.validateResponses && def.success.schema) {
          const check = def.success.schema.safeParse(result);
          if (!check.success) {
            log.error({ route: def.path, reqId: req.id, issues: describeIssues(check.error).message }, 'response does not match its schema');
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
