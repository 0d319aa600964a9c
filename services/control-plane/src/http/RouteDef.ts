import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal, Role } from '../auth/roles.js';
import type { EventStreamSource } from './EventStream.js';

/** A non-JSON success body (Prometheus text, the OpenAPI document as served). */
export class TextBody {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

/** A Server-Sent Events success body: the app takes the reply over and runs the source's loop. */
export class EventStreamBody {
  constructor(readonly source: EventStreamSource) {}
}

/** Returned by a handler that wrote the response itself (a redirect, a file). */
export const HIJACKED = Symbol('hijacked');

export interface HandlerContext<P, Q, B, H = unknown> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The request headers the route declares, validated (names in lower case). */
  readonly headers: H;
  /** The verified caller; undefined only on public routes. */
  readonly principal: Principal | undefined;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

/**
 * One route of the API: method, path, who may call it, its zod schemas and its handler. The
 * Fastify app and the OpenAPI document are both generated from the list of these.
 */
export interface RouteDef<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, H extends z.ZodType = z.ZodType> {
  /** operationId in the OpenAPI document. */
  readonly id: string;
  readonly method: 'GET' | 'POST';
  /** Fastify syntax: `/v1/orders/:orderId`; a trailing `*` is the path parameter `path` in the document. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** Roles allowed (admin always is), or `public` for unauthenticated operational routes. */
  readonly roles: readonly Role[] | 'public';
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Request headers the route reads (a zod object keyed by lower-case header names; 400 `header.<name>` when invalid). */
  readonly headers?: H;
  readonly success: {
    /** 302: a redirect the handler answers itself. */
    readonly status: 200 | 202 | 302;
    readonly description: string;
    /** JSON body schema; absent for text bodies. */
    readonly schema?: z.ZodType;
    /** Default application/json. */
    readonly contentType?: string;
  };
  /** Statuses the route can answer beyond the generic ones (400, 401, 403, 429, 500). */
  readonly errors?: readonly (404 | 409 | 422 | 503)[];
  /** Another status answered with the success schema (readiness: 503 when not ready). */
  readonly sameBodyOn?: { readonly status: 503; readonly description: string };
  readonly handler: (ctx: HandlerContext<z.infer<P>, z.infer<Q>, z.infer<B>, z.infer<H>>) => Promise<unknown>;
}

/** An AbortSignal that fires when the connection closes (ends long-polls early when the client goes away). */
export function abortOnClose(reply: FastifyReply): AbortSignal {
  const ctl = new AbortController();
  reply.raw.once('close', () => ctl.abort());
  return ctl.signal;
}

/** Keeps the handler's context typed by the route's own schemas. */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, H extends z.ZodType>(def: RouteDef<P, Q, B, H>): RouteDef {
  return def;
}
