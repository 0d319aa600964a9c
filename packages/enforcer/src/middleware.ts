import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Decision } from './EnforcerState.js';

export interface Authorizer {
  authorize(identityId: string, sessionId: string | undefined, action: string, resource: string): Decision;
}

export interface MiddlewareOptions<Req extends IncomingMessage> {
  /** The calling identity, e.g. from a verified mTLS/SPIFFE id or a token claim; undefined = deny. */
  readonly identity: (req: Req) => string | undefined;
  readonly session?: (req: Req) => string | undefined;
  /** The action, e.g. `${req.method}:${route}` mapped to livescope action names. */
  readonly action: (req: Req) => string;
  readonly resource: (req: Req) => string;
  /** Called with every denial (logging); the response is 403 with a JSON reason. */
  readonly onDeny?: (req: Req, decision: Decision) => void;
}

/**
 * Connect/Express-style middleware for Node HTTP servers: authorises every request locally and
 * answers 403 with the decision's reason when it is denied. The reason never echoes request data.
 */
export function enforcerMiddleware<Req extends IncomingMessage>(enforcer: Authorizer, o: MiddlewareOptions<Req>) {
  return (req: Req, res: ServerResponse, next: (err?: unknown) => void): void => {
    const identity = o.identity(req);
    const decision: Decision =
      identity === undefined ? { allowed: false, code: 'unknown-identity', reason: 'no identity on the request', version: 0 } : enforcer.authorize(identity, o.session?.(req), o.action(req), o.resource(req));
    if (decision.allowed) {
      next();
      return;
    }
    o.onDeny?.(req, decision);
    res.statusCode = 403;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: 'forbidden', code: decision.code, reason: decision.reason }));
  };
}

/** The parts of a Fastify reply the hook uses (structural: the SDK does not depend on Fastify). */
export interface FastifyReplyLike {
  code(statusCode: number): this;
  header(name: string, value: string): this;
  send(payload: string): this;
}

export interface FastifyHookOptions<Req> {
  /** The calling identity, from something the server verified (mTLS peer, token subject); undefined = deny. */
  readonly identity: (req: Req) => string | string[] | undefined;
  readonly session?: (req: Req) => string | string[] | undefined;
  readonly action: (req: Req) => string;
  readonly resource: (req: Req) => string;
  /** Called with every denial (logging); the reply is 403 with a JSON reason. */
  readonly onDeny?: (req: Req, decision: Decision) => void;
}

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v);

/**
 * A Fastify `onRequest` hook (`app.addHook('onRequest', fastifyEnforcer(enforcer, …))`):
 * authorises every request locally and replies 403 with the decision's reason when denied. A header
 * given twice counts as absent.
 */
export function fastifyEnforcer<Req>(enforcer: Authorizer, o: FastifyHookOptions<Req>) {
  // Fastify's rule for async hooks that reply: return the reply (it stops the chain there).
  return <R extends FastifyReplyLike>(req: Req, reply: R): Promise<R | undefined> => {
    const identity = single(o.identity(req));
    const decision: Decision = identity === undefined ? { allowed: false, code: 'unknown-identity', reason: 'no identity on the request', version: 0 } : enforcer.authorize(identity, single(o.session?.(req)), o.action(req), o.resource(req));
    if (decision.allowed) return Promise.resolve(undefined);
    o.onDeny?.(req, decision);
    return Promise.resolve(reply.code(403).header('content-type', 'application/json').send(JSON.stringify({ error: 'forbidden', code: decision.code, reason: decision.reason })));
  };
}
