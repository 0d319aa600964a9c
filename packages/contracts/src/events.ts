import { z } from 'zod';
import { EnforcerId, EventId, GrantId, IdentityId, Instant, LeaseId, OrderId, SessionId, TokenId } from './ids.js';

/**
 * Input events. The envelope follows the CloudEvents 1.0 JSON layout (`specversion`, `id`, `type`,
 * `source`, `time`, `subject`, `data`) so that generic tooling can route and display them.
 * `subject` is the identity id for identity-scoped events and absent for broadcast (org-wide) ones.
 */

export const IdentityKind = z.enum(['agent', 'workload', 'service-account', 'ci-job']);
export type IdentityKind = z.infer<typeof IdentityKind>;

export const Access = z.enum(['read', 'write', 'admin']);
export type Access = z.infer<typeof Access>;

const name = z.string().min(1).max(256);
const shortText = z.string().max(1024);
const labels = z.record(z.string().min(1).max(128), z.string().max(256));

/** An action name such as `k8s:deploy` or `secrets:read`. */
export const actionNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:/*-]{0,127}$/;
export const ActionName = z.string().regex(actionNamePattern, 'action names are 1-128 characters: letters, digits and . _ : / * -');
export const ResourceName = z.string().min(1).max(512);

/** One provisioned (action, resource) pair with the attributes policies may read. */
export const Permission = z.strictObject({
  action: ActionName,
  resource: ResourceName,
  access: Access,
  resourceType: name.optional(),
  system: name.optional(),
  namespace: name.optional(),
  labels: labels.optional(),
});
export type Permission = z.infer<typeof Permission>;

/** Matches identities by equality on every given attribute (a conjunction). */
export const Selector = z
  .strictObject({
    kind: IdentityKind.optional(),
    namespace: name.optional(),
    owner: name.optional(),
    labels: labels.optional(),
    roles: z.array(name).max(16).optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), { message: 'a selector needs at least one attribute' });
export type Selector = z.infer<typeof Selector>;

export const OrderKind = z.enum(['read-only', 'deny-actions', 'quarantine', 'revoke-secret-leases', 'revoke-session', 'revoke-token']);
export type OrderKind = z.infer<typeof OrderKind>;

export const OrderTarget = z.union([z.strictObject({ identityId: IdentityId }), z.strictObject({ selector: Selector }), z.strictObject({ all: z.literal(true) })]);
export type OrderTarget = z.infer<typeof OrderTarget>;

const envelope = {
  specversion: z.literal('1.0'),
  id: EventId,
  source: z.string().min(1).max(256),
  time: Instant,
};

function identityEvent<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.strictObject({ ...envelope, type: z.literal(type), subject: IdentityId, data });
}
function broadcastEvent<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.strictObject({ ...envelope, type: z.literal(type), data });
}

// --- identity lifecycle -------------------------------------------------------------------------
export const IdentityCreated = identityEvent(
  'identity.created',
  z.strictObject({ kind: IdentityKind, name, namespace: name, owner: name, labels: labels.optional() }),
);
export const IdentityUpdated = identityEvent(
  'identity.updated',
  z.strictObject({ name: name.optional(), namespace: name.optional(), owner: name.optional(), labels: labels.optional() }),
);
export const IdentityDisabled = identityEvent('identity.disabled', z.strictObject({ reason: shortText }));
export const IdentityEnabled = identityEvent('identity.enabled', z.strictObject({ reason: shortText.optional() }));
export const IdentityDeleted = identityEvent('identity.deleted', z.strictObject({ reason: shortText }));

// --- entitlements -------------------------------------------------------------------------------
export const EntitlementGranted = identityEvent(
  'entitlement.granted',
  z.strictObject({ grantId: GrantId, role: name, permissions: z.array(Permission).min(1).max(256) }),
);
export const EntitlementRevoked = identityEvent('entitlement.revoked', z.strictObject({ grantId: GrantId }));
export const JitGranted = identityEvent(
  'jit.granted',
  z.strictObject({
    grantId: GrantId,
    permissions: z.array(Permission).min(1).max(64),
    expiresAt: Instant,
    /** When set, the grant ends with this session or its task. */
    sessionId: SessionId.optional(),
    approvedBy: name.optional(),
    reason: shortText.optional(),
  }),
);
export const JitRevoked = identityEvent('jit.revoked', z.strictObject({ grantId: GrantId }));

// --- sessions -----------------------------------------------------------------------------------
export const SessionStarted = identityEvent(
  'session.started',
  z.strictObject({
    sessionId: SessionId,
    task: name.optional(),
    mfa: z.boolean().default(false),
    tokenId: TokenId.optional(),
    /** The system that issued the session; named in revocations so it knows to act. */
    system: name.default('livescope'),
    expiresAt: Instant.optional(),
  }),
);
export const SessionTaskChanged = identityEvent('session.task-changed', z.strictObject({ sessionId: SessionId, task: name }));
export const SessionMfaVerified = identityEvent('session.mfa-verified', z.strictObject({ sessionId: SessionId }));
/** Who approved, as verified by the control plane that signed the approval (see docs/threat-model.md). */
export const Approver = z.strictObject({
  /** `human` only when the control plane verified evidence of a person (an ID token of the human identity provider). */
  kind: z.enum(['human', 'workload', 'agent', 'service-account', 'unknown']),
  /** The approver's subject at the identity provider (the ID token's `sub`). */
  subject: name,
  /** The identity provider that authenticated the approver (the ID token's `iss`). */
  issuer: z.string().min(1).max(512),
  /** How the approver's kind was established. */
  evidence: z.enum(['oidc-id-token', 'none']),
  /** When the approver authenticated (the ID token's `auth_time` or `iat`). */
  authenticatedAt: Instant.optional(),
});
export type Approver = z.infer<typeof Approver>;

export const ApprovalGranted = identityEvent(
  'session.approval-granted',
  z.strictObject({
    /** The session the approval was given for: the permissions it enables hold only in that session. */
    sessionId: SessionId.optional(),
    approvalId: name,
    /** The escalation approved, as policies see it in `context.approvals`, e.g. `secret-retrieval`. */
    escalation: name,
    /** Display name of the approver (audit, console). */
    approvedBy: name,
    /** Verified approver. Approvals without a human approver are refused (`invalid-approval`). */
    approver: Approver.optional(),
    expiresAt: Instant,
  }),
);
export const ApprovalRevoked = identityEvent('session.approval-revoked', z.strictObject({ approvalId: name }));
export const SessionTaskCompleted = identityEvent('session.task-completed', z.strictObject({ sessionId: SessionId }));
export const SessionEnded = identityEvent('session.ended', z.strictObject({ sessionId: SessionId, reason: shortText.optional() }));

// --- telemetry ----------------------------------------------------------------------------------
export const RiskScored = identityEvent('telemetry.risk-scored', z.strictObject({ score: z.number().int().min(0).max(100), model: name.optional() }));
export const AnomalyDetected = identityEvent(
  'telemetry.anomaly-detected',
  z.strictObject({ anomalyId: name, kind: name, severity: z.enum(['low', 'medium', 'high', 'critical']), expiresAt: Instant }),
);
/** Routine activity telemetry: records use of permissions (feeds excess-privilege detection). */
export const ActivityObserved = identityEvent(
  'telemetry.activity',
  z.strictObject({ action: ActionName, resource: ResourceName, count: z.number().int().min(1).max(1_000_000).default(1) }),
);
export const TokenReplayDetected = identityEvent(
  'telemetry.token-replay-detected',
  z.strictObject({ tokenId: TokenId, sessionId: SessionId.optional(), evidence: shortText.optional() }),
);
export const HumanUseDetected = identityEvent(
  'telemetry.human-use-detected',
  z.strictObject({ evidence: shortText, sourceIp: z.string().max(64).optional(), sessionId: SessionId.optional() }),
);

// --- secrets ------------------------------------------------------------------------------------
export const LeaseCreated = identityEvent(
  'secret.lease-created',
  z.strictObject({ leaseId: LeaseId, secretPath: name, system: name.default('vault'), sessionId: SessionId.optional(), expiresAt: Instant }),
);
export const LeaseRenewed = identityEvent('secret.lease-renewed', z.strictObject({ leaseId: LeaseId, expiresAt: Instant }));
export const LeaseRevoked = identityEvent('secret.lease-revoked', z.strictObject({ leaseId: LeaseId }));
export const SecretAccessed = identityEvent(
  'secret.accessed',
  z.strictObject({ secretPath: name, operation: z.enum(['read', 'write', 'list', 'delete']), leaseId: LeaseId.optional(), sessionId: SessionId.optional(), system: name.default('vault') }),
);

// --- enforcement reports ------------------------------------------------------------------------
/** Aggregated decisions of an enforcement point for one identity over a window. */
export const DecisionsReported = identityEvent(
  'enforcement.decisions',
  z.strictObject({
    enforcerId: EnforcerId,
    windowStart: Instant,
    windowEnd: Instant,
    decisions: z
      .array(z.strictObject({ action: ActionName, resource: ResourceName, sessionId: SessionId.optional(), allowed: z.number().int().min(0), denied: z.number().int().min(0), reason: shortText.optional() }))
      .min(1)
      .max(256),
  }),
);

// --- broadcast: policies, org context, orders, leaked secrets ------------------------------------
export const PolicyFile = z.strictObject({ id: name, text: z.string().min(1).max(262_144) });
export const PoliciesPublished = broadcastEvent(
  'policies.published',
  z.strictObject({ version: z.number().int().min(1), policies: z.array(PolicyFile).min(1).max(512), publishedBy: name }),
);
export const ReleaseWindowOpened = broadcastEvent(
  'org.release-window',
  z.strictObject({
    windowId: name,
    namespace: name,
    startsAt: Instant,
    endsAt: Instant,
    signedBy: name,
    /** Ed25519 signature (base64url) by `signedBy` over `releaseWindowSigningPayload(...)`. */
    signature: z.string().min(16).max(512),
  }),
);
export const ReleaseWindowCancelled = broadcastEvent('org.release-window-cancelled', z.strictObject({ windowId: name }));
export const IncidentMode = broadcastEvent(
  'org.incident-mode',
  z.strictObject({ incidentId: name, namespace: name, active: z.boolean(), reason: shortText.optional() }),
);
export const OrderIssued = broadcastEvent(
  'order.issued',
  z.strictObject({
    orderId: OrderId,
    kind: OrderKind,
    target: OrderTarget,
    /** deny-actions: the actions denied. */
    actions: z.array(ActionName).max(128).optional(),
    /** revoke-secret-leases: the secret whose leases die. */
    secretPath: name.optional(),
    sessionId: SessionId.optional(),
    tokenId: TokenId.optional(),
    expiresAt: Instant.optional(),
    reason: shortText,
    actor: name,
  }),
);
export const OrderLifted = broadcastEvent('order.lifted', z.strictObject({ orderId: OrderId, actor: name, reason: shortText.optional() }));
export const SecretLeaked = broadcastEvent('secret.leaked', z.strictObject({ secretPath: name, evidence: shortText.optional() }));

export const LivescopeEvent = z.discriminatedUnion('type', [
  IdentityCreated,
  IdentityUpdated,
  IdentityDisabled,
  IdentityEnabled,
  IdentityDeleted,
  EntitlementGranted,
  EntitlementRevoked,
  JitGranted,
  JitRevoked,
  SessionStarted,
  SessionTaskChanged,
  SessionMfaVerified,
  ApprovalGranted,
  ApprovalRevoked,
  SessionTaskCompleted,
  SessionEnded,
  RiskScored,
  AnomalyDetected,
  ActivityObserved,
  TokenReplayDetected,
  HumanUseDetected,
  LeaseCreated,
  LeaseRenewed,
  LeaseRevoked,
  SecretAccessed,
  DecisionsReported,
  PoliciesPublished,
  ReleaseWindowOpened,
  ReleaseWindowCancelled,
  IncidentMode,
  OrderIssued,
  OrderLifted,
  SecretLeaked,
]);
export type LivescopeEvent = z.infer<typeof LivescopeEvent>;
/** The event as producers write it: defaults (e.g. `mfa: false`) may be omitted. */
export type LivescopeEventInput = z.input<typeof LivescopeEvent>;
export type EventType = LivescopeEvent['type'];
export type EventOf<T extends EventType> = Extract<LivescopeEvent, { type: T }>;

export const broadcastEventTypes = [
  'policies.published',
  'org.release-window',
  'org.release-window-cancelled',
  'org.incident-mode',
  'order.issued',
  'order.lifted',
  'secret.leaked',
] as const satisfies readonly EventType[];
export type BroadcastEventType = (typeof broadcastEventTypes)[number];
export type BroadcastEvent = Extract<LivescopeEvent, { type: BroadcastEventType }>;
export type IdentityEvent = Exclude<LivescopeEvent, { type: BroadcastEventType }>;

const broadcastSet: ReadonlySet<string> = new Set(broadcastEventTypes);
export function isBroadcastEvent(e: LivescopeEvent): e is BroadcastEvent {
  return broadcastSet.has(e.type);
}

export const eventTypes: readonly EventType[] = LivescopeEvent.options.map((o) => o.shape.type.value);

/** The bytes a release manager signs for a release window: stable field order, UTF-8. */
export function releaseWindowSigningPayload(w: { windowId: string; namespace: string; startsAt: string; endsAt: string; signedBy: string }): string {
  return JSON.stringify(['livescope.release-window.v1', w.windowId, w.namespace, w.startsAt, w.endsAt, w.signedBy]);
}
