import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Explanation } from '@livescope/scope-engine';
import type { z } from 'zod';
import { access } from '../auth/roles.js';
import type { Principal } from '../auth/roles.js';
import { HIJACKED, route, TextBody, type RouteDef } from './RouteDef.js';
import * as S from './schemas.js';

/** What the routes need from the rest of the control plane (implemented by `ControlPlaneService`). */
export interface ApiServices {
  issueOrder(actor: Principal, req: S.IssueOrderRequest): Promise<z.input<typeof S.OrderAccepted>>;
  liftOrder(actor: Principal, orderId: string, reason: string | undefined): Promise<z.input<typeof S.LiftAccepted>>;
  activeOrders(): Promise<z.input<typeof S.OrdersList>>;
  orderStatus(orderId: string, waitMs: number | undefined, enforcers: number | undefined, signal: AbortSignal): Promise<S.OrderStatus>;
  grantApproval(actor: Principal, identityId: string, req: z.infer<typeof S.ApprovalRequest>): Promise<z.input<typeof S.ApprovalAccepted>>;
  revokeApproval(actor: Principal, identityId: string, approvalId: string): Promise<z.input<typeof S.ApprovalRevoked>>;
  scope(identityId: string): Promise<S.ScopeView>;
  scopeAt(identityId: string, version: number): Promise<z.input<typeof S.PastScopeView>>;
  history(identityId: string, q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.History>>;
  explain(identityId: string, action: string, resource: string): Promise<Explanation>;
  alerts(q: z.infer<typeof S.AlertsQuery>): Promise<z.input<typeof S.AlertsList>>;
  streamAlerts(q: z.infer<typeof S.AlertStreamQuery>, lastEventId: string | undefined, ctx: { request: FastifyRequest; reply: FastifyReply }): Promise<void>;
  enforcers(): Promise<z.input<typeof S.EnforcersList>>;
  acknowledgeAlert(actor: Principal, id: string, note: string | undefined): Promise<z.input<typeof S.AlertAck>>;
  whoami(p: Principal): z.input<typeof S.WhoAmI>;
  identities(q: z.infer<typeof S.IdentitiesQuery>): Promise<z.input<typeof S.IdentitiesPage>>;
  fleet(): Promise<z.input<typeof S.FleetSummary>>;
  changes(q: z.infer<typeof S.ChangesQuery>): Promise<z.input<typeof S.ChangesList>>;
  streamChanges(q: z.infer<typeof S.ChangeStreamQuery>, lastEventId: string | undefined, ctx: { request: FastifyRequest; reply: FastifyReply }): Promise<void>;
  /** Answers a request for the web console: an asset of its build, or its page for client-side routes. */
  consoleAsset(path: string, reply: FastifyReply): Promise<void>;
  readiness(): Promise<{ ready: boolean; checks: { kafka: string; registry: string; postgres: string; consumers: string } }>;
  metricsText(): Promise<{ contentType: string; text: string }>;
  openApi(): unknown;
}

/** The API's route table. Order matters only for the generated document. */
export function apiRoutes(svc: ApiServices): RouteDef[] {
  return [
    // --- orders ----------------------------------------------------------------------------------
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
    // --- identities ------------------------------------------------------------------------------
    route({
      id: 'listIdentities',
      method: 'GET',
      path: '/v1/identities',
      tag: 'identities',
      summary: 'Identities in id order, a page at a time, filtered by id substring, kind, namespace and status (the workers\' state of record)',
      roles: access.read,
      query: S.IdentitiesQuery,
      success: { status: 200, description: 'A page of identities.', schema: S.IdentitiesPage },
      handler: ({ query }) => svc.identities(query),
    }),
    route({
      id: 'getScope',
      method: 'GET',
      path: '/v1/identities/:identityId/scope',
      tag: 'identities',
      summary: 'Current runtime scope: every permission with its validUntil, the scope version, sessions, approvals, leases',
      roles: access.read,
      params: S.IdentityParams,
      success: { status: 200, description: 'The scope of record.', schema: S.ScopeView },
      errors: [404],
      handler: ({ params }) => svc.scope(params.identityId),
    }),
    route({
      id: 'getScopeAtVersion',
      method: 'GET',
      path: '/v1/identities/:identityId/scope/versions/:version',
      tag: 'identities',
      summary: 'The scope at a past version (from the audit log)',
      roles: access.read,
      params: S.VersionParams,
      success: { status: 200, description: 'The scope as it was.', schema: S.PastScopeView },
      errors: [404],
      handler: ({ params }) => svc.scopeAt(params.identityId, params.version),
    }),
    route({
      id: 'getHistory',
      method: 'GET',
      path: '/v1/identities/:identityId/history',
      tag: 'identities',
      summary: 'History of scope changes, revocations and alerts with their causes (audit log), newest first',
      roles: access.read,
      params: S.IdentityParams,
      query: S.HistoryQuery,
      success: { status: 200, description: 'A page of history.', schema: S.History },
      handler: ({ params, query }) => svc.history(params.identityId, query),
    }),
    route({
      id: 'explain',
      method: 'GET',
      path: '/v1/identities/:identityId/explain',
      tag: 'identities',
      summary: 'Why an identity may or may not do (action, resource) now: grants, policies, context facts, orders, until when',
      roles: access.read,
      params: S.IdentityParams,
      query: S.ExplainQuery,
      success: { status: 200, description: 'The explanation.', schema: S.Explanation },
      errors: [404, 503],
      handler: ({ params, query }) => svc.explain(params.identityId, query.action, query.resource),
    }),
    route({
      id: 'grantApproval',
      method: 'POST',
      path: '/v1/identities/:identityId/approvals',
      tag: 'identities',
      summary: 'Approve an escalation for a while (widening: approver role)',
      roles: access.widen,
      params: S.IdentityParams,
      body: S.ApprovalRequest,
      success: { status: 202, description: 'The approval is durably published.', schema: S.ApprovalAccepted },
      errors: [404, 503],
      handler: ({ principal, params, body }) => svc.grantApproval(principal!, params.identityId, body),
    }),
    route({
      id: 'revokeApproval',
      method: 'POST',
      path: '/v1/identities/:identityId/approvals/:approvalId/revoke',
      tag: 'identities',
      summary: 'Withdraw an approval (narrowing)',
      roles: [...access.narrow, ...access.widen],
      params: S.ApprovalParams,
      success: { status: 202, description: 'The revocation is durably published.', schema: S.ApprovalRevoked },
      errors: [404, 503],
      handler: ({ principal, params }) => svc.revokeApproval(principal!, params.identityId, params.approvalId),
    }),
    // --- alerts ----------------------------------------------------------------------------------
    route({
      id: 'listAlerts',
      method: 'GET',
      path: '/v1/alerts',
      tag: 'alerts',
      summary: 'Drift alerts, newest first',
      roles: access.alerts,
      query: S.AlertsQuery,
      success: { status: 200, description: 'A page of alerts.', schema: S.AlertsList },
      handler: ({ query }) => svc.alerts(query),
    }),
    route({
      id: 'streamAlerts',
      method: 'GET',
      path: '/v1/alerts/stream',
      tag: 'alerts',
      summary: 'Follow drift alerts live (Server-Sent Events; resume with Last-Event-ID)',
      description: 'Each event is `event: drift.alert`, `id: <alert id>`, `data: <Alert JSON>`. The stream closes after the configured maximum duration; clients reconnect with Last-Event-ID and miss nothing.',
      roles: access.alerts,
      query: S.AlertStreamQuery,
      success: { status: 200, description: 'An event stream of Alert objects.', contentType: 'text/event-stream' },
      handler: async ({ query, request, reply }) => {
        const header = request.headers['last-event-id'];
        const last = typeof header === 'string' && /^\d{1,19}$/.test(header.trim()) ? header.trim() : query.lastEventId;
        await svc.streamAlerts(query, last, { request, reply });
        return HIJACKED;
      },
    }),
    route({
      id: 'acknowledgeAlert',
      method: 'POST',
      path: '/v1/alerts/:id/ack',
      tag: 'alerts',
      summary: 'Acknowledge a drift alert (recorded with the token subject and an optional note)',
      description: 'Streams of every instance pass the acknowledgement on as an `alert.acknowledged` event. A second acknowledgement is answered 409 with who acknowledged it first.',
      roles: access.alerts,
      params: S.AlertParams,
      body: S.AckRequest,
      success: { status: 200, description: 'The acknowledgement.', schema: S.AlertAck },
      errors: [404, 409],
      handler: ({ principal, params, body }) => svc.acknowledgeAlert(principal!, params.id, body.note),
    }),
    // --- the fleet -----------------------------------------------------------------------------------
    route({
      id: 'fleetSummary',
      method: 'GET',
      path: '/v1/fleet',
      tag: 'fleet',
      summary: 'The fleet at a glance: identities by status, kind and namespace, scope sizes, orders in force, enforcement points, unacknowledged alerts, and scope changes per minute over the last hour',
      roles: access.read,
      success: { status: 200, description: 'Fleet summary.', schema: S.FleetSummary },
      handler: () => svc.fleet(),
    }),
    route({
      id: 'listChanges',
      method: 'GET',
      path: '/v1/changes',
      tag: 'fleet',
      summary: 'The newest scope changes and revocations of the whole fleet, with their causes, and the position to stream on from',
      roles: access.read,
      query: S.ChangesQuery,
      success: { status: 200, description: 'Recent changes, newest first.', schema: S.ChangesList },
      handler: ({ query }) => svc.changes(query),
    }),
    route({
      id: 'streamChanges',
      method: 'GET',
      path: '/v1/changes/stream',
      tag: 'fleet',
      summary: 'Follow scope changes and revocations live (Server-Sent Events from the audit log; resume with Last-Event-ID)',
      description:
        'Each event is `event: scope.change` or `event: revocation`, `id: <audit position>`, `data: <ChangeItem JSON>`. An `event: position` with an empty object moves the resume position when nothing matched the filter for a while. Without Last-Event-ID the stream starts now; with the `cursor` of GET /v1/changes it follows on from that answer without a gap.',
      roles: access.read,
      query: S.ChangeStreamQuery,
      success: { status: 200, description: 'An event stream of ChangeItem objects.', contentType: 'text/event-stream' },
      handler: async ({ query, request, reply }) => {
        const header = request.headers['last-event-id'];
        const last = typeof header === 'string' && header.trim() !== '' ? header.trim() : query.lastEventId;
        await svc.streamChanges(query, last, { request, reply });
        return HIJACKED;
      },
    }),
    route({
      id: 'whoami',
      method: 'GET',
      path: '/v1/me',
      tag: 'operations',
      summary: 'The caller: token subject, roles, and what they allow',
      roles: access.read,
      success: { status: 200, description: 'The verified caller.', schema: S.WhoAmI },
      handler: ({ principal }) => Promise.resolve(svc.whoami(principal!)),
    }),
    // --- enforcement points ------------------------------------------------------------------------
    route({
      id: 'listEnforcers',
      method: 'GET',
      path: '/v1/enforcers',
      tag: 'enforcers',
      summary: 'Enforcement points: last applied version, staleness and revocation lag (p50 / p99 / max)',
      roles: access.read,
      success: { status: 200, description: 'Enforcement points.', schema: S.EnforcersList },
      handler: () => svc.enforcers(),
    }),
    // --- operations ------------------------------------------------------------------------------
    route({
      id: 'health',
      method: 'GET',
      path: '/healthz',
      tag: 'operations',
      summary: 'Liveness: the process answers',
      roles: 'public',
      success: { status: 200, description: 'Alive.', schema: S.Health },
      handler: () => Promise.resolve({ status: 'ok' }),
    }),
    route({
      id: 'ready',
      method: 'GET',
      path: '/readyz',
      tag: 'operations',
      summary: 'Readiness: Kafka, the schema registry and PostgreSQL answer, and the consumers run',
      roles: 'public',
      success: { status: 200, description: 'Ready.', schema: S.Readiness },
      sameBodyOn: { status: 503, description: 'Not ready: `checks` says which dependency fails.' },
      handler: async ({ reply }) => {
        const r = await svc.readiness();
        if (!r.ready) void reply.code(503);
        return r;
      },
    }),
    route({
      id: 'metrics',
      method: 'GET',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      roles: 'public',
      success: { status: 200, description: 'Prometheus text exposition.', contentType: 'text/plain' },
      handler: async () => {
        const m = await svc.metricsText();
        return new TextBody(m.contentType, m.text);
      },
    }),
    // --- the web console ---------------------------------------------------------------------------
    route({
      id: 'home',
      method: 'GET',
      path: '/',
      tag: 'console',
      summary: 'Redirects to the web console',
      roles: 'public',
      success: { status: 302, description: 'To /console/.' },
      handler: ({ reply }) => {
        void reply.redirect('/console/', 302);
        return Promise.resolve(HIJACKED);
      },
    }),
    route({
      id: 'consoleRoot',
      method: 'GET',
      path: '/console',
      tag: 'console',
      summary: 'Redirects to the web console',
      roles: 'public',
      success: { status: 302, description: 'To /console/.' },
      handler: ({ reply }) => {
        void reply.redirect('/console/', 302);
        return Promise.resolve(HIJACKED);
      },
    }),
    route({
      id: 'console',
      method: 'GET',
      path: '/console/*',
      tag: 'console',
      summary: 'The web console: its page (for every client-side route) and its bundled assets',
      description: 'The built `@livescope/console` (no CDN: everything is served from here). Data comes from the /v1 API with the bearer token pasted at login.',
      roles: 'public',
      params: S.ConsoleParams,
      success: { status: 200, description: 'The page or asset.', contentType: 'text/html' },
      errors: [404, 503],
      handler: async ({ params, reply }) => {
        await svc.consoleAsset(params['*'], reply);
        return HIJACKED;
      },
    }),
    route({
      id: 'openapi',
      method: 'GET',
      path: '/openapi.json',
      tag: 'operations',
      summary: 'This document (OpenAPI 3.1, generated from the request and response schemas)',
      roles: 'public',
      success: { status: 200, description: 'The OpenAPI document.', contentType: 'application/json' },
      handler: () => Promise.resolve(svc.openApi()),
    }),
  ];
}

/** An AbortSignal that fires when the connection closes (ends long-polls early when the client goes away). */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const ctl = new AbortController();
  reply.raw.once('close', () => ctl.abort());
  return ctl.signal;
}
