import { ActionName, IdentityId, Instant, OrderKind, OrderTarget, SessionId, TokenId } from '@livescope/contracts';
import { z } from 'zod';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component, Name, Reason, TtlSeconds } from '../../http/schemas.js';
import { IdempotencyKey } from './idempotency.js';

/** Requests and answers of the orders API: narrowing and revocation orders, their lifts and progress. */
export const OrderParams = z.object({ orderId: z.string().min(1).max(256).describe('Order id as returned when it was issued.') });

export const IdempotencyHeaders = z.object({
  'idempotency-key': IdempotencyKey.optional().describe(
    'Makes the request safe to retry: 1-255 visible ASCII characters (a fresh UUID per request is a good choice), optionally in double quotes. The same key from the same token subject with the same request gets the first answer again for the retention window (`LIVESCOPE_API_IDEMPOTENCY_RETENTION_MS`, default 24 h), even from another instance or after a restart; with another request, 422.',
  ),
});
const narrowingBase = {
  target: OrderTarget.describe('Whom the order applies to: `{identityId}`, `{selector:{kind,namespace,owner,labels,roles}}` or `{all:true}`.'),
  reason: Reason,
  ttlSeconds: TtlSeconds.optional(),
  expiresAt: Instant.optional().describe('Absolute expiry; use either this or ttlSeconds. Without either the order holds until lifted.'),
};
const identityTarget = z.strictObject({ identityId: IdentityId });

export const IssueOrderRequest = component(
  'IssueOrderRequest',
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('read-only'), ...narrowingBase }).describe('Only read access remains in scope.'),
    z.strictObject({ kind: z.literal('deny-actions'), ...narrowingBase, actions: z.array(ActionName).min(1).max(128) }).describe('The listed actions leave the scope.'),
    z.strictObject({ kind: z.literal('quarantine'), ...narrowingBase }).describe('Nothing remains in scope; sessions, tokens and leases are revoked now.'),
    z
      .strictObject({ kind: z.literal('revoke-secret-leases'), target: OrderTarget.default({ all: true }), secretPath: Name, reason: Reason })
      .describe('Every lease of the secret held by the targeted identities is revoked (default target: all).'),
    z.strictObject({ kind: z.literal('revoke-session'), target: identityTarget, sessionId: SessionId, reason: Reason }).describe('One session is ended and revoked.'),
    z.strictObject({ kind: z.literal('revoke-token'), target: identityTarget, tokenId: TokenId, reason: Reason }).describe('A token, and the sessions using it, are revoked.'),
  ]),
);
export type IssueOrderRequest = z.infer<typeof IssueOrderRequest>;

export const OrderAccepted = component(
  'OrderAccepted',
  z.object({
    orderId: z.string(),
    eventId: z.string().describe('Id of the order.issued event; scope changes it causes name it in `cause.eventId`.'),
    kind: OrderKind,
    actor: z.string().describe('The token subject, recorded as the actor.'),
    target: OrderTarget,
    expiresAt: Instant.nullable(),
    acceptedAt: Instant,
    partitions: z.number().int().describe('Partitions of the events topic the broadcast was durably written to.'),
    statusUrl: z.string(),
  }),
);

export const LiftRequest = component(
  'LiftRequest',
  z.strictObject({ reason: Reason.optional() }),
);

export const LiftAccepted = component(
  'LiftAccepted',
  z.object({ orderId: z.string(), eventId: z.string(), actor: z.string(), acceptedAt: Instant, partitions: z.number().int(), statusUrl: z.string() }),
);

export const ActiveOrderView = component(
  'ActiveOrder',
  z.object({
    orderId: z.string(),
    kind: OrderKind,
    target: OrderTarget,
    actions: z.array(z.string()),
    issuedAt: Instant,
    expiresAt: Instant.nullable(),
    actor: z.string(),
    reason: z.string(),
    partitions: z.object({ holding: z.number().int(), total: z.number().int() }).describe('Partitions whose workers hold the order (all of them once every worker processed it).'),
  }),
);
export type ActiveOrderView = z.infer<typeof ActiveOrderView>;

export const OrdersQuery = pageQuery(200, 1000);

export const OrdersList = component(
  'OrdersList',
  z.object({ orders: z.array(ActiveOrderView).describe('In orderId order.'), partitions: z.number().int(), nextCursor: NextCursor }),
);

export const StatusQuery = z.object({
  waitMs: z.coerce.number().int().min(0).max(600_000).optional().describe('Long-poll: wait up to this many milliseconds (capped by the server) until the event is complete and applied by `enforcers` enforcement points.'),
  enforcers: z.coerce.number().int().min(0).max(10_000).optional().describe('With waitMs: how many enforcement points must have applied it (default: every known one).'),
});

export const Progress = component(
  'Progress',
  z.object({
    eventId: z.string(),
    publishedAt: Instant,
    partitions: z.object({ total: z.number().int(), processed: z.number().int() }).nullable().describe('Partitions whose worker committed past the event (null when its offsets are unknown).'),
    complete: z.boolean().describe('Every partition processed it and every command it caused has been seen by the control plane.'),
    identitiesChanged: z.number().int(),
    changes: z.number().int(),
    revocations: z.number().int(),
    truncated: z.boolean(),
    enforcers: z.object({
      known: z.number().int().describe('Enforcement points heard from within the liveness window.'),
      applied: z.number().int(),
      appliedBy: z.array(z.string()),
      verified: z.number().int().describe('Of `applied`, the enforcement points whose acknowledgements were verified against their own keys (`LIVESCOPE_API_ENFORCER_KEYS`); the others are self-declared.'),
      pending: z.array(z.string()),
    }),
  }),
);
export type Progress = z.infer<typeof Progress>;

export const OrderStatus = component(
  'OrderStatus',
  z.object({
    orderId: z.string(),
    kind: OrderKind,
    actor: z.string(),
    reason: z.string(),
    target: OrderTarget,
    issuedAt: Instant,
    expiresAt: Instant.nullable(),
    inForce: z.object({ holding: z.number().int(), total: z.number().int() }),
    issue: Progress.nullable(),
    lift: Progress.extend({ actor: z.string(), reason: z.string().nullable() }).nullable(),
    satisfied: z.boolean().describe('For a long-poll: whether the awaited condition holds.'),
  }),
);
export type OrderStatus = z.infer<typeof OrderStatus>;
