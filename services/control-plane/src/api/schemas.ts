import { Access, ActionName, Cause, DriftAlertType, IdentityId, IdentityKind, IdentityStatus, Instant, OrderKind, OrderTarget, PermissionDelta, ResourceName, RevocationTarget, SessionId, Severity, TokenId } from '@livescope/contracts';
import { z } from 'zod';

/**
 * Request and response schemas of the HTTP API. The route table validates requests with them and
 * generates the OpenAPI document from them, so the two cannot drift apart.
 */

/** Schemas that appear in the OpenAPI document as named components (`#/components/schemas/<name>`). */
export const componentNames = new Map<z.ZodType, string>();
function component<T extends z.ZodType>(name: string, schema: T): T {
  componentNames.set(schema, name);
  return schema;
}

// --- common --------------------------------------------------------------------------------------
export const ErrorBody = component(
  'Error',
  z.object({
    error: z.object({
      code: z.string().describe('Stable error code: INVALID_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, UNAVAILABLE, POLICY_COMPILER_UNAVAILABLE, INTERNAL.'),
      message: z.string(),
      paths: z.array(z.string()).optional().describe('Failing field paths of an invalid request, e.g. `target.identityId`.'),
    }),
  }),
);

const reason = z.string().min(1).max(1024).describe('Why: recorded with the order in the audit log.');
const name = z.string().min(1).max(256);
const ttlSeconds = z.number().int().min(1).describe('Time to live in seconds from now (at most the configured maximum TTL).');

export const IdentityParams = z.object({ identityId: IdentityId.describe('Identity id.') });
export const OrderParams = z.object({ orderId: z.string().min(1).max(256).describe('Order id as returned when it was issued.') });

// --- orders --------------------------------------------------------------------------------------
const narrowingBase = {
  target: OrderTarget.describe('Whom the order applies to: `{identityId}`, `{selector:{kind,namespace,owner,labels,roles}}` or `{all:true}`.'),
  reason,
  ttlSeconds: ttlSeconds.optional(),
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
      .strictObject({ kind: z.literal('revoke-secret-leases'), target: OrderTarget.default({ all: true }), secretPath: name, reason })
      .describe('Every lease of the secret held by the targeted identities is revoked (default target: all).'),
    z.strictObject({ kind: z.literal('revoke-session'), target: identityTarget, sessionId: SessionId, reason }).describe('One session is ended and revoked.'),
    z.strictObject({ kind: z.literal('revoke-token'), target: identityTarget, tokenId: TokenId, reason }).describe('A token, and the sessions using it, are revoked.'),
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
  z.strictObject({ reason: reason.optional() }),
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

export const OrdersList = component(
  'OrdersList',
  z.object({ orders: z.array(ActiveOrderView), partitions: z.number().int() }),
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

// --- approvals -----------------------------------------------------------------------------------
export const ApprovalRequest = component(
  'ApprovalRequest',
  z.strictObject({
    escalation: name.describe('The escalation approved, as policies see it in `context.approvals`, e.g. `secret-retrieval`.'),
    sessionId: SessionId.optional(),
    ttlSeconds: ttlSeconds.optional(),
    expiresAt: Instant.optional(),
  }).refine((r) => (r.ttlSeconds === undefined) !== (r.expiresAt === undefined), { message: 'give exactly one of ttlSeconds or expiresAt', path: ['ttlSeconds'] }),
);

export const ApprovalAccepted = component(
  'ApprovalAccepted',
  z.object({ approvalId: z.string(), eventId: z.string(), identityId: z.string(), escalation: z.string(), approvedBy: z.string(), expiresAt: Instant, acceptedAt: Instant }),
);

export const ApprovalParams = IdentityParams.extend({ approvalId: name });
export const ApprovalRevoked = component(
  'ApprovalRevoked',
  z.object({ approvalId: z.string(), eventId: z.string(), identityId: z.string(), acceptedAt: Instant }),
);

// --- identity views ------------------------------------------------------------------------------
export const ScopePermissionView = z.object({
  action: z.string(),
  resource: z.string(),
  access: Access,
  validUntil: Instant.nullable().describe('The earliest instant it leaves the scope without any new event; null: none.'),
  grants: z.array(z.string()),
  sinceVersion: z.number().int().nullable().describe('Scope version at which it (last) entered the scope, from the audit log; null when older than the history read.'),
  since: Instant.nullable(),
});

export const ScopeView = component(
  'ScopeView',
  z.object({
    identityId: z.string(),
    version: z.number().int(),
    status: IdentityStatus,
    at: Instant.describe('Logical time of the state.'),
    kind: IdentityKind,
    name: z.string(),
    namespace: z.string(),
    owner: z.string(),
    labels: z.record(z.string(), z.string()),
    roles: z.array(z.string()),
    partition: z.number().int(),
    riskScore: z.number(),
    permissions: z.array(ScopePermissionView),
    sessions: z.array(z.object({ sessionId: z.string(), task: z.string().nullable(), mfa: z.boolean(), expiresAt: Instant.nullable() })),
    approvals: z.array(z.object({ approvalId: z.string(), escalation: z.string(), approvedBy: z.string(), expiresAt: Instant })),
    leases: z.array(z.object({ leaseId: z.string(), secretPath: z.string(), system: z.string(), expiresAt: Instant })),
  }),
);
export type ScopeView = z.infer<typeof ScopeView>;

export const VersionParams = IdentityParams.extend({ version: z.coerce.number().int().min(1).describe('Scope version.') });

export const PastScopeView = component(
  'PastScopeView',
  z.object({
    identityId: z.string(),
    version: z.number().int(),
    previousVersion: z.number().int(),
    status: IdentityStatus,
    at: Instant,
    direction: z.enum(['narrowing', 'widening', 'mixed', 'refresh']),
    permissions: z.array(z.object({ action: z.string(), resource: z.string(), access: Access, validUntil: Instant.nullable(), grants: z.array(z.string()) })),
    sessions: z.array(z.string()),
    added: z.array(PermissionDelta),
    removed: z.array(PermissionDelta),
    cause: Cause,
  }),
);

export const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(200).optional().describe('Cursor from a previous page (`next`).'),
  kinds: z
    .string()
    .regex(/^(scope\.change|revocation|drift\.alert)(,(scope\.change|revocation|drift\.alert))*$/)
    .optional()
    .describe('Comma-separated subset of scope.change, revocation, drift.alert (default: all).'),
});

export const HistoryItem = component(
  'HistoryItem',
  z.object({
    at: Instant,
    kind: z.string(),
    version: z.number().int().nullable(),
    actor: z.string().nullable(),
    eventId: z.string().nullable(),
    summary: z.string(),
    cause: Cause.nullable(),
    direction: z.enum(['narrowing', 'widening', 'mixed', 'refresh']).nullable(),
    added: z.array(PermissionDelta),
    removed: z.array(PermissionDelta),
    revocation: RevocationTarget.nullable(),
    alert: z.object({ alertId: z.string(), type: DriftAlertType, severity: Severity }).nullable(),
    scopeSize: z.number().int().nullable().describe('Permissions in scope after a scope change (null for other kinds).'),
    status: IdentityStatus.nullable().describe('Identity status after a scope change (null for other kinds).'),
    partition: z.number().int(),
    seq: z.number().int(),
  }),
);
export type HistoryItem = z.infer<typeof HistoryItem>;

export const History = component(
  'History',
  z.object({ identityId: z.string(), items: z.array(HistoryItem), next: z.string().nullable() }),
);

export const ExplainQuery = z.object({ action: ActionName, resource: ResourceName });

export const Explanation = component(
  'Explanation',
  z.object({
    identityId: z.string(),
    action: z.string(),
    resource: z.string(),
    at: Instant,
    allowed: z.boolean(),
    status: IdentityStatus,
    version: z.number().int(),
    provisioned: z.array(z.object({ grantId: z.string(), role: z.string().optional(), jit: z.boolean(), expiresAt: Instant.optional() })).describe('Grants that provision it.'),
    orders: z.array(z.object({ orderId: z.string(), kind: z.string(), actor: z.string(), reason: z.string(), expiresAt: Instant.optional() })).describe('Orders in force that remove it.'),
    policies: z.object({
      determining: z.array(z.string()).describe('Policies that decided: the permits when allowed, the forbids when denied.'),
      errors: z.array(z.string()),
      policySetVersion: z.number().int().describe('0: no policy set was ever published; the built-in default permits what is provisioned.'),
    }),
    context: z
      .object({
        now: Instant,
        session: z.object({ active: z.boolean(), count: z.number().int(), mfa: z.boolean(), tasks: z.array(z.string()) }),
        approvals: z.array(z.string()),
        riskScore: z.number(),
        anomalies: z.array(z.string()),
        humanUseDetected: z.boolean(),
        releaseWindows: z.array(z.string()),
        incidentNamespaces: z.array(z.string()),
        grant: z.object({ jit: z.boolean(), roles: z.array(z.string()) }),
      })
      .optional()
      .describe('The context facts the policies were evaluated on.'),
    validUntil: Instant.nullable().describe('Until when this answer holds without a new event.'),
    summary: z.string(),
  }),
);

// --- alerts --------------------------------------------------------------------------------------
const csvOf = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .max(1000)
    .transform((s, ctx) => {
      const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
      const out: z.infer<T>[] = [];
      for (const p of parts) {
        const r = item.safeParse(p);
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `unknown value ${p}` });
          return z.NEVER;
        }
        out.push(r.data);
      }
      return out;
    });

export const AlertFilterQuery = z.object({
  type: csvOf(DriftAlertType).optional().describe('Comma-separated alert types.'),
  severity: Severity.optional().describe('Minimum severity.'),
  identity: IdentityId.optional(),
  enforcer: z.string().min(1).max(256).optional(),
  since: Instant.optional().describe('Only alerts at or after this instant.'),
  acknowledged: z.enum(['true', 'false']).optional().describe('Only acknowledged (`true`) or unacknowledged (`false`) alerts.'),
});
export const AlertsQuery = AlertFilterQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().regex(/^\d{1,19}$/).optional().describe('Page cursor: alerts with an id lower than this.'),
});
export const AlertStreamQuery = AlertFilterQuery.extend({
  lastEventId: z.string().regex(/^\d{1,19}$/).optional().describe('Resume after this alert id (the Last-Event-ID header takes precedence).'),
});

export const AlertView = component(
  'Alert',
  z.object({
    id: z.string().describe('Monotonic id: the SSE event id, and the `before` cursor.'),
    alertId: z.string(),
    type: DriftAlertType,
    severity: Severity,
    identityId: z.string().nullable(),
    enforcerId: z.string().nullable(),
    at: Instant,
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    cause: Cause,
    receivedAt: Instant,
    acknowledgement: z
      .object({ by: z.string(), at: Instant, note: z.string().nullable() })
      .nullable()
      .describe('Who acknowledged the alert, when, with what note; null while unacknowledged.'),
  }),
);
export type AlertView = z.infer<typeof AlertView>;

export const AlertsList = component(
  'AlertsList',
  z.object({ alerts: z.array(AlertView), next: z.string().nullable() }),
);

export const AlertParams = z.object({ id: z.string().regex(/^\d{1,19}$/).describe('Alert id (`id` of the Alert, not `alertId`).') });
export const AckRequest = component(
  'AlertAckRequest',
  z.strictObject({ note: z.string().min(1).max(1024).optional().describe('Why, or what was done: shown beside the acknowledgement.') }),
);
export const AlertAck = component(
  'AlertAck',
  z.object({ id: z.string(), alertId: z.string(), by: z.string().describe('The token subject.'), at: Instant, note: z.string().nullable() }),
);

export const ConsoleParams = z.object({ '*': z.string().max(1024).describe('Path under /console/.') });

// --- the caller ------------------------------------------------------------------------------------
export const WhoAmI = component(
  'WhoAmI',
  z.object({
    sub: z.string(),
    roles: z.array(z.string()),
    can: z
      .object({
        read: z.boolean(),
        readAlerts: z.boolean(),
        acknowledgeAlerts: z.boolean(),
        issueOrders: z.boolean(),
        liftOwnOrders: z.boolean(),
        liftAnyOrder: z.boolean(),
        grantApprovals: z.boolean(),
      })
      .describe('What the roles allow, as the API enforces it (user interfaces hide what is false).'),
  }),
);

// --- fleet ---------------------------------------------------------------------------------------
export const IdentitiesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  after: IdentityId.optional().describe('Page cursor: identities whose id sorts after this one (`next` of the previous page).'),
  q: z.string().min(1).max(256).optional().describe('Case-insensitive substring of the identity id.'),
  kind: IdentityKind.optional(),
  namespace: z.string().min(1).max(256).optional(),
  status: IdentityStatus.optional(),
});

export const IdentitySummary = component(
  'IdentitySummary',
  z.object({
    identityId: z.string(),
    kind: z.string(),
    name: z.string(),
    namespace: z.string(),
    owner: z.string(),
    status: IdentityStatus,
    version: z.number().int(),
    scopeSize: z.number().int().describe('Permissions in scope.'),
    sessions: z.number().int(),
    riskScore: z.number(),
    partition: z.number().int(),
    updatedAt: Instant,
  }),
);
export type IdentitySummary = z.infer<typeof IdentitySummary>;

export const IdentitiesPage = component(
  'IdentitiesPage',
  z.object({
    identities: z.array(IdentitySummary),
    next: z.string().nullable().describe('Cursor of the next page (`after`); null on the last page.'),
    total: z.number().int().nullable().describe('Identities matching the filters; computed on the first page only (null on later pages).'),
  }),
);

const counts = z.record(z.string(), z.number().int());
export const ActivityBucket = z.object({
  at: Instant.describe('Start of the bucket.'),
  narrowing: z.number().int(),
  widening: z.number().int(),
  mixed: z.number().int(),
  refresh: z.number().int(),
  revocation: z.number().int(),
});
export const FleetSummary = component(
  'FleetSummary',
  z.object({
    at: Instant,
    identities: z.number().int(),
    byStatus: counts,
    byKind: counts,
    byNamespace: counts,
    permissionsInScope: z.number().int(),
    openSessions: z.number().int(),
    scopeSizes: z.array(z.object({ label: z.string(), min: z.number().int(), max: z.number().int().nullable(), identities: z.number().int() })).describe('Histogram of scope sizes.'),
    ordersInForce: z.number().int(),
    enforcers: z.object({ known: z.number().int(), total: z.number().int() }),
    alerts: z.object({ unacknowledged: z.number().int().describe('Unacknowledged alerts of the last 24 hours.') }),
    activity: z
      .object({ bucketMs: z.number().int(), buckets: z.array(ActivityBucket) })
      .describe('Scope changes (by direction) and revocations per bucket, oldest first, as this control plane read them from the command topics.'),
  }),
);
export type FleetSummary = z.infer<typeof FleetSummary>;

const CHANGE_KINDS = /^(scope\.change|revocation)(,(scope\.change|revocation))*$/;
export const ChangeItem = component(
  'ChangeItem',
  HistoryItem.extend({ identityId: z.string() }),
);
export type ChangeItem = z.infer<typeof ChangeItem>;
export const ChangesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  kinds: z.string().regex(CHANGE_KINDS).optional().describe('Comma-separated subset of scope.change, revocation (default: both).'),
});
export const ChangesList = component(
  'ChangesList',
  z.object({
    items: z.array(ChangeItem).describe('Newest first.'),
    cursor: z.string().describe('Position of this answer in the audit log: pass it as Last-Event-ID to /v1/changes/stream to follow on without a gap.'),
  }),
);
export const ChangeStreamQuery = z.object({
  identity: IdentityId.optional().describe('Only this identity.'),
  kinds: z.string().regex(CHANGE_KINDS).optional(),
  lastEventId: z.string().regex(/^\d{1,6}:\d{1,19}(,\d{1,6}:\d{1,19}){0,4095}$/).optional().describe('Resume after this position (the Last-Event-ID header takes precedence).'),
});

// --- enforcement points ----------------------------------------------------------------------------
export const EnforcerView = component(
  'Enforcer',
  z.object({
    enforcerId: z.string(),
    live: z.boolean().describe('Heard from within the liveness window.'),
    firstSeen: Instant.nullable(),
    lastSeen: Instant,
    silenceMs: z.number().int().describe('Milliseconds since its last acknowledgement.'),
    identities: z.number().int().describe('Identities it holds, as it last reported.'),
    applied: z.number().int().describe('Commands it acknowledged.'),
    rejected: z.number().int().describe('Commands it rejected (unsigned, forged, replayed).'),
    lastApplied: z.object({ identityId: z.string(), version: z.number().int(), kind: z.string(), appliedAt: Instant, producedAt: Instant.nullable() }).nullable(),
    lag: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() }).nullable().describe('Production → application of recent scope changes and revocations.'),
    stalenessMs: z.number().int().nullable().describe('Age of the oldest recent command it has not acknowledged (0: up to date; null: unknown to this instance).'),
    pendingCommands: z.number().int().nullable(),
  }),
);
export type EnforcerView = z.infer<typeof EnforcerView>;

export const EnforcersList = component(
  'EnforcersList',
  z.object({ enforcers: z.array(EnforcerView), known: z.number().int() }),
);

// --- operations ----------------------------------------------------------------------------------
export const Health = component(
  'Health',
  z.object({ status: z.literal('ok') }),
);
export const Readiness = component(
  'Readiness',
  z.object({ ready: z.boolean(), checks: z.object({ kafka: z.string(), registry: z.string(), postgres: z.string(), consumers: z.string() }) }),
);
