/**
 * The control plane's API as the console uses it (see docs/openapi.json for the document of
 * record). Only the fields the console reads are listed.
 */
export type Direction = 'narrowing' | 'widening' | 'mixed' | 'refresh';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type IdentityStatus = 'active' | 'disabled' | 'deleted';

export interface WhoAmI {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly can: {
    readonly read: boolean;
    readonly readAlerts: boolean;
    readonly acknowledgeAlerts: boolean;
    readonly issueOrders: boolean;
    readonly liftOwnOrders: boolean;
    readonly liftAnyOrder: boolean;
    readonly grantApprovals: boolean;
  };
}

export interface Cause {
  readonly eventId?: string;
  readonly eventType?: string;
  readonly timer?: boolean;
  readonly policyIds?: readonly string[];
  readonly orderIds?: readonly string[];
  readonly actor?: string;
}

export interface PermissionDelta {
  readonly action: string;
  readonly resource: string;
  readonly access: string;
  readonly validUntil?: string | null;
  readonly cause: Cause;
}

export interface IdentitySummary {
  readonly identityId: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly status: IdentityStatus;
  readonly version: number;
  readonly scopeSize: number;
  readonly sessions: number;
  readonly riskScore: number;
  readonly partition: number;
  readonly updatedAt: string;
}

export interface IdentitiesPage {
  readonly identities: IdentitySummary[];
  readonly nextCursor: string | null;
  readonly total: number | null;
}

export interface ActivityBucket {
  readonly at: string;
  readonly narrowing: number;
  readonly widening: number;
  readonly mixed: number;
  readonly refresh: number;
  readonly revocation: number;
}

export interface FleetSummary {
  readonly at: string;
  readonly identities: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly byKind: Readonly<Record<string, number>>;
  readonly byNamespace: Readonly<Record<string, number>>;
  readonly permissionsInScope: number;
  readonly openSessions: number;
  readonly scopeSizes: readonly { readonly label: string; readonly identities: number }[];
  readonly ordersInForce: number;
  readonly enforcers: { readonly known: number; readonly total: number };
  readonly alerts: { readonly unacknowledged: number };
  readonly activity: { readonly bucketMs: number; readonly buckets: readonly ActivityBucket[] };
}

export interface HistoryItem {
  readonly at: string;
  readonly kind: string;
  readonly version: number | null;
  readonly actor: string | null;
  readonly eventId: string | null;
  readonly summary: string;
  readonly cause: Cause | null;
  readonly direction: Direction | null;
  readonly added: readonly PermissionDelta[];
  readonly removed: readonly PermissionDelta[];
  readonly revocation: { readonly type: string; readonly id: string; readonly system: string } | null;
  readonly alert: { readonly alertId: string; readonly type: string; readonly severity: Severity } | null;
  readonly scopeSize: number | null;
  readonly status: IdentityStatus | null;
  readonly partition: number;
  readonly seq: number;
}

export interface ChangeItem extends HistoryItem {
  readonly identityId: string;
}

export interface ChangesList {
  readonly items: ChangeItem[];
  /** Where the first page was read in the audit log: Last-Event-ID of the change stream. */
  readonly position: string;
  readonly nextCursor: string | null;
}

export interface History {
  readonly identityId: string;
  readonly items: HistoryItem[];
  readonly nextCursor: string | null;
}

export interface ScopePermission {
  readonly action: string;
  readonly resource: string;
  readonly access: string;
  readonly validUntil: string | null;
  readonly grants: readonly string[];
  /** Sessions it is bound to (an approval or a grant given for them); null: any live session. */
  readonly sessions: readonly string[] | null;
  readonly sinceVersion: number | null;
  readonly since: string | null;
}

export interface ScopeView {
  readonly identityId: string;
  readonly version: number;
  readonly status: IdentityStatus;
  readonly at: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly roles: readonly string[];
  readonly partition: number;
  readonly riskScore: number;
  readonly permissions: readonly ScopePermission[];
  readonly sessions: readonly { readonly sessionId: string; readonly task: string | null; readonly mfa: boolean; readonly expiresAt: string | null; readonly attested: boolean }[];
  readonly approvals: readonly { readonly approvalId: string; readonly escalation: string; readonly approvedBy: string; readonly expiresAt: string; readonly sessionId: string | null; readonly human: boolean }[];
  readonly leases: readonly { readonly leaseId: string; readonly secretPath: string; readonly system: string; readonly expiresAt: string }[];
}

export interface Explanation {
  readonly identityId: string;
  readonly action: string;
  readonly resource: string;
  readonly at: string;
  readonly allowed: boolean;
  readonly version: number;
  readonly provisioned: readonly { readonly grantId: string; readonly role?: string; readonly jit: boolean; readonly expiresAt?: string }[];
  readonly orders: readonly { readonly orderId: string; readonly kind: string; readonly actor: string; readonly reason: string; readonly expiresAt?: string }[];
  readonly policies: { readonly determining: readonly string[]; readonly errors: readonly string[]; readonly policySetVersion: number };
  readonly context?: {
    readonly session: { readonly active: boolean; readonly count: number; readonly mfa: boolean; readonly tasks: readonly string[] };
    readonly approvals: readonly string[];
    readonly riskScore: number;
    readonly anomalies: readonly string[];
    readonly releaseWindows: readonly string[];
    readonly incidentNamespaces: readonly string[];
  };
  readonly validUntil: string | null;
  readonly summary: string;
}

export interface Alert {
  readonly id: string;
  readonly alertId: string;
  readonly type: string;
  readonly severity: Severity;
  readonly identityId: string | null;
  readonly enforcerId: string | null;
  readonly at: string;
  readonly summary: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly cause: Cause;
  readonly receivedAt: string;
  readonly acknowledgement: { readonly by: string; readonly at: string; readonly note: string | null } | null;
}

export interface AlertsList {
  readonly alerts: Alert[];
  readonly nextCursor: string | null;
}

export interface AlertAck {
  readonly id: string;
  readonly alertId: string;
  readonly by: string;
  readonly at: string;
  readonly note: string | null;
}

export type OrderTarget = { readonly identityId: string } | { readonly selector: Readonly<Record<string, unknown>> } | { readonly all: true };

export interface ActiveOrder {
  readonly orderId: string;
  readonly kind: string;
  readonly target: OrderTarget;
  readonly actions: readonly string[];
  readonly issuedAt: string;
  readonly expiresAt: string | null;
  readonly actor: string;
  readonly reason: string;
  readonly partitions: { readonly holding: number; readonly total: number };
}

export interface OrdersList {
  readonly orders: ActiveOrder[];
  readonly partitions: number;
  readonly nextCursor: string | null;
}

export interface OrderAccepted {
  readonly orderId: string;
  readonly eventId: string;
  readonly kind: string;
  readonly actor: string;
  readonly expiresAt: string | null;
  readonly partitions: number;
}

export interface Progress {
  readonly complete: boolean;
  readonly identitiesChanged: number;
  readonly changes: number;
  readonly revocations: number;
  readonly partitions: { readonly total: number; readonly processed: number } | null;
  readonly enforcers: { readonly known: number; readonly applied: number; readonly appliedBy: readonly string[]; readonly pending: readonly string[] };
}

export interface OrderStatus {
  readonly orderId: string;
  readonly kind: string;
  readonly actor: string;
  readonly reason: string;
  readonly inForce: { readonly holding: number; readonly total: number };
  readonly issue: Progress | null;
  readonly lift: (Progress & { readonly actor: string; readonly reason: string | null }) | null;
  readonly satisfied: boolean;
}

export interface Enforcer {
  readonly enforcerId: string;
  readonly live: boolean;
  readonly firstSeen: string | null;
  readonly lastSeen: string;
  readonly silenceMs: number;
  readonly identities: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lastApplied: { readonly identityId: string; readonly version: number; readonly kind: string; readonly appliedAt: string; readonly producedAt: string | null } | null;
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  /** Whether its latest acknowledgements were signed by one of its own keys (null: recorded before verification existed). */
  readonly acksVerified: boolean | null;
  readonly stalenessMs: number | null;
  readonly pendingCommands: number | null;
}

export interface EnforcersList {
  readonly enforcers: Enforcer[];
  readonly known: number;
  readonly nextCursor: string | null;
}

/** How to sign in (`GET /auth/oidc`). */
export interface SignInConfig {
  readonly issuer: string;
  readonly consoleClientId: string | null;
  readonly cliClientId: string | null;
  readonly scopes: string;
  readonly resource: string | null;
}

/** An error answer: RFC 9457 problem details (application/problem+json); `code` is the API's stable code. */
export interface ApiErrorBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string;
  readonly code: string;
  readonly paths?: readonly string[];
  readonly correlationId?: string;
}

// --- policies -------------------------------------------------------------------------------------
export interface PolicyFile {
  readonly id: string;
  readonly text: string;
}

export interface PolicySetView {
  readonly version: number | null;
  readonly hash: string | null;
  readonly publishedBy: string | null;
  readonly publishedAt: string | null;
  readonly files: readonly PolicyFile[];
  readonly partitions: readonly { readonly partition: number; readonly version: number | null }[];
}

export interface PolicyPublication {
  readonly requestId: string | null;
  readonly status: 'pending' | 'published' | 'rejected' | 'unchanged';
  readonly hash: string;
  readonly version: number | null;
  readonly eventId: string | null;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly approvedBy: string | null;
  readonly rollbackOf: number | null;
  readonly reason: string | null;
  readonly files: number;
}

export interface PolicyHistory {
  readonly versions: readonly {
    readonly version: number;
    readonly hash: string;
    readonly publishedBy: string;
    readonly publishedAt: string;
    readonly policies: readonly string[];
    readonly requestId: string | null;
    readonly approvedBy: string | null;
    readonly rollbackOf: number | null;
    readonly reason: string | null;
  }[];
  readonly pending: readonly PolicyPublication[];
  readonly nextCursor: string | null;
}

export interface PolicyValidation {
  readonly valid: boolean;
  readonly hash: string;
  readonly problems: readonly { readonly file?: string; readonly line?: number; readonly column?: number; readonly code: string; readonly message: string; readonly help?: string }[];
}

export interface ImpactCounts {
  readonly identities: number;
  readonly changed: number;
  readonly widened: number;
  readonly narrowed: number;
  readonly gained: number;
  readonly lost: number;
  readonly losingEverything: number;
}

export interface ImpactPermission {
  readonly action: string;
  readonly resource: string;
  readonly access: 'read' | 'write' | 'admin';
  readonly sessions?: readonly string[];
}

export interface PolicyPair {
  readonly action: string;
  readonly resource: string;
  readonly kind: string;
  readonly gained: number;
  readonly lost: number;
}

export interface PolicyImpact {
  readonly at: string;
  readonly inForce: { readonly version: number | null };
  readonly candidate: { readonly version: number | null; readonly hash: string };
  readonly durationMs: number;
  readonly scanned: number;
  readonly totals: ImpactCounts;
  readonly byNamespace: readonly (ImpactCounts & { readonly namespace: string })[];
  readonly byKind: readonly (ImpactCounts & { readonly kind: string })[];
  readonly pairs: readonly PolicyPair[];
  readonly identities: readonly {
    readonly identityId: string;
    readonly kind: string;
    readonly namespace: string;
    readonly before: number;
    readonly after: number;
    readonly gained: readonly ImpactPermission[];
    readonly lost: readonly ImpactPermission[];
    readonly rebound: readonly ImpactPermission[];
    readonly losesEverything: boolean;
  }[];
  readonly identitiesTruncated: boolean;
}

export interface PolicyDiff {
  readonly identical: boolean;
  readonly files: readonly { readonly file: string; readonly change: 'added' | 'removed' | 'modified'; readonly hunks: readonly { readonly fromLine: number; readonly toLine: number; readonly lines: readonly { readonly op: ' ' | '+' | '-'; readonly text: string }[] }[] }[];
  readonly policies: readonly { readonly id: string; readonly change: 'added' | 'removed' | 'modified'; readonly changed?: readonly string[]; readonly before?: { readonly effect: string; readonly action: string }; readonly after?: { readonly effect: string; readonly action: string } }[];
  readonly pairs: readonly PolicyPair[] | null;
}
