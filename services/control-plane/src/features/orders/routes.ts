import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import { abortOnClose, route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the orders routes need: plain inputs and outputs, the caller passed in as a value. */
export interface OrdersApi {
  issueOrder(actor: Principal, req: S.IssueOrderRequest): Promise<z.input<typeof S.OrderAccepted>>;
  liftOrder(actor: Principal, orderId: string, reason: string | undefined): Promise<z.input<typeof S.LiftAccepted>>;
  activeOrders(): Promise<z.input<typeof S.OrdersList>>;
  /** Long-polls up to `waitMs` (capped) until satisfied; `signal` ends the wait when the client goes away. */
  orderStatus(orderId: string, waitMs: number | undefined, enforcers: number | undefined, signal: AbortSignal): Promise<S.OrderStatus>;
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
      description: 'Accepted (202) only once the order is durably on the events topic (acks=all), broadcast to every partition. The token subject is recorded as the actor.',
      roles: access.narrow,
      body: S.IssueOrderRequest,
      success: { status: 202, description: 'The order is durably published.', schema: S.OrderAccepted },
      errors: [503],
      handler: ({ principal, body }) => svc.issueOrder(principal!, body),
    }),
    route({
      id: 'listOrders',
      method: 'GET',
      path: '/v1/orders',
      tag: 'orders',
      summary: 'Orders in force, as the workers hold them (partition globals in PostgreSQL)',
      roles: access.read,
      success: { status: 200, description: 'Active orders.', schema: S.OrdersList },
      handler: () => svc.activeOrders(),
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
      roles: access.lift,
      params: S.OrderParams,
      body: S.LiftRequest,
      success: { status: 202, description: 'The lift is durably published.', schema: S.LiftAccepted },
      errors: [404, 409, 503],
      handler: ({ principal, params, body }) => svc.liftOrder(principal!, params.orderId, body.reason),
    }),
  ];
}
