import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import type { FastifyReply } from 'fastify';
import { pageOfList } from '../../http/pagination.js';
import { abortOnClose, route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the orders routes need: plain inputs and outputs, the caller passed in as a value. */
export interface OrdersApi {
  /** With an idempotency key, a retry of the same request gets the first answer again (`replayed`). */
  issueOrder(actor: Principal, req: S.IssueOrderRequest, idempotencyKey?: string): Promise<Answer<z.input<typeof S.OrderAccepted>>>;
  liftOrder(actor: Principal, orderId: string, reason: string | undefined, idempotencyKey?: string): Promise<Answer<z.input<typeof S.LiftAccepted>>>;
  /** Every order in force (the route pages them). */
  activeOrders(): Promise<Omit<z.input<typeof S.OrdersList>, 'nextCursor'>>;
  /** Long-polls up to `waitMs` (capped) until satisfied; `signal` ends the wait when the client goes away. */
  orderStatus(orderId: string, waitMs: number | undefined, enforcers: number | undefined, signal: AbortSignal): Promise<S.OrderStatus>;
}

/** An answer, and whether it is given again for an Idempotency-Key. */
export interface Answer<T> {
  readonly body: T;
  readonly replayed: boolean;
}

/** The body of an answer; a replay says so in `Idempotent-Replayed: true`. */
function answered<T>(reply: FastifyReply, a: Answer<T>): T {
  if (a.replayed) void reply.header('idempotent-replayed', 'true');
  return a.body;
}

/** Routes of the orders feature. */
export function orderRoutes(svc: OrdersApi): RouteDef[] {
  return [
    route({
      id: 'issueOrder',
      method: 'POST',
      path: '/v1/orders',
      tag: 'orders',
      summary: 'Issue a narrowing order (read-only, deny-actions, quarantine) or a revocation (secret leases, session, token)',
      description:
        'Accepted (202) only once the order is durably on the events topic (acks=all), broadcast to every partition. The token subject is recorded as the actor. ' +
        'With an `Idempotency-Key`, a retry of the same request by the same subject within the retention window gets the first answer again (marked `Idempotent-Replayed: true`) and publishes nothing; ' +
        'after a 503 whose publication may still land, the retry answers 202 once Kafka confirmed it, or 503 again. The same key with another body is 422.',
      roles: access.narrow,
      headers: S.IdempotencyHeaders,
      body: S.IssueOrderRequest,
      success: { status: 202, description: 'The order is durably published (or, with `Idempotent-Replayed: true`, was, for this key).', schema: S.OrderAccepted },
      errors: [409, 422, 503],
      handler: async ({ principal, headers, body, reply }) => answered(reply, await svc.issueOrder(principal!, body, headers['idempotency-key'])),
    }),
    route({
      id: 'listOrders',
      method: 'GET',
      path: '/v1/orders',
      tag: 'orders',
      summary: 'Orders in force, as the workers hold them (partition globals in PostgreSQL)',
      roles: access.read,
      query: S.OrdersQuery,
      success: { status: 200, description: 'Active orders, a page at a time.', schema: S.OrdersList },
      handler: async ({ query }) => {
        const { orders, partitions } = await svc.activeOrders();
        const { page, nextCursor } = pageOfList(orders, (o) => o.orderId, query);
        return { orders: page, partitions, nextCursor };
      },
    }),
    route({
      id: 'orderStatus',
      method: 'GET',
      path: '/v1/orders/:orderId/status',
      tag: 'orders',
      summary: 'How many identities an order (and its lift) changed, and how many enforcement points applied those versions',
      description: 'With `waitMs` the call long-polls until the order is complete and applied by `enforcers` enforcement points, or the wait ends.',
      roles: access.read,
      params: S.OrderParams,
      query: S.StatusQuery,
      success: { status: 200, description: 'Progress of the order.', schema: S.OrderStatus },
      errors: [404],
      handler: ({ params, query, reply }) => svc.orderStatus(params.orderId, query.waitMs, query.enforcers, abortOnClose(reply)),
    }),
    route({
      id: 'liftOrder',
      method: 'POST',
      path: '/v1/orders/:orderId/lift',
      tag: 'orders',
      summary: 'Lift an order (widening: a responder may lift only its own orders; approvers any)',
      description: 'With an `Idempotency-Key`, a retry of the same lift by the same subject gets the first answer again (`Idempotent-Replayed: true`) instead of 409; the same key for another lift is 422.',
      roles: access.lift,
      params: S.OrderParams,
      headers: S.IdempotencyHeaders,
      body: S.LiftRequest,
      success: { status: 202, description: 'The lift is durably published (or, with `Idempotent-Replayed: true`, was, for this key).', schema: S.LiftAccepted },
      errors: [404, 409, 422, 503],
      handler: async ({ principal, params, headers, body, reply }) => answered(reply, await svc.liftOrder(principal!, params.orderId, body.reason, headers['idempotency-key'])),
    }),
  ];
}
