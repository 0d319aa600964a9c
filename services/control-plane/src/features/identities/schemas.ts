import { Access, ActionName, Cause, IdentityKind, IdentityStatus, Instant, PermissionDelta, ResourceName } from '@livescope/contracts';
import { z } from 'zod';
import { HistoryItem } from '../../audit/auditItem.js';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component, IdentityParams } from '../../http/schemas.js';

/** Requests and answers of the identities API: the fleet a page at a time, one identity's scope, its past versions, history and explanations. */
export const IdentitiesQuery = pageQuery(200, 1000).extend({
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
    nextCursor: NextCursor,
    total: z.number().int().nullable().describe('Identities matching the filters; computed on the first page only (null on later pages).'),
  }),
);

export const ScopePermissionView = z.object({
  action: z.string(),
  resource: z.string(),
  access: Access,
  validUntil: Instant.nullable().describe('The earliest instant it leaves the scope without any new event; null: none.'),
  grants: z.array(z.string()),
  sessions: z.array(z.string()).nullable().describe('The sessions it is bound to (an approval or a just-in-time grant given for them); null: any live session.'),
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
    sessions: z.array(
      z.object({
        sessionId: z.string(),
        task: z.string().nullable(),
        mfa: z.boolean(),
        expiresAt: Instant.nullable(),
        attested: z.boolean().describe('Started by a producer allowed to start sessions; an observed session (false) is never accepted at enforcement points.'),
      }),
    ),
    approvals: z.array(
      z.object({
        approvalId: z.string(),
        escalation: z.string(),
        approvedBy: z.string(),
        expiresAt: Instant,
        sessionId: z.string().nullable().describe('The session it was given for (what it enables holds only there); null: any session.'),
        human: z.boolean().describe('The approver was verified to be a person.'),
      }),
    ),
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
    permissions: z.array(z.object({ action: z.string(), resource: z.string(), access: Access, validUntil: Instant.nullable(), grants: z.array(z.string()), sessions: z.array(z.string()).optional() })),
    sessions: z.array(z.string()),
    added: z.array(PermissionDelta),
    removed: z.array(PermissionDelta),
    cause: Cause,
  }),
);

export const HistoryQuery = pageQuery(50, 500).extend({
  kinds: z
    .string()
    .regex(/^(scope\.change|revocation|drift\.alert)(,(scope\.change|revocation|drift\.alert))*$/)
    .optional()
    .describe('Comma-separated subset of scope.change, revocation, drift.alert (default: all).'),
});


export const History = component(
  'History',
  z.object({ identityId: z.string(), items: z.array(HistoryItem).describe('Newest first.'), nextCursor: NextCursor }),
);

export const ExplainQuery = z.object({ action: ActionName, resource: ResourceName, session: z.string().min(1).max(256).optional().describe('Explain as seen from this session (approvals and grants given for a session hold only there).') });

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
        humanApprovals: z.array(z.string()),
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
    session: z.string().optional().describe('The session the answer is for.'),
    boundToSessions: z.array(z.string()).optional().describe('When set, the permission is allowed only in these sessions.'),
    summary: z.string(),
  }),
);
