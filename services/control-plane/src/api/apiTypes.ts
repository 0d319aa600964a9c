/**
 * The API's request and response types for its clients (the `livescope` CLI, scripts): the shapes
 * the features' zod schemas validate and document, as plain TypeScript types. Published as
 * `@livescope/control-plane/api-types`. This module holds types only, so a client that imports it
 * with `import type` depends on the control plane at build time and never loads its code.
 */
import type { z } from 'zod';
import type * as Alerts from '../features/alerts/schemas.js';
import type * as Approvals from '../features/approvals/schemas.js';
import type * as Changes from '../features/changes/schemas.js';
import type * as Enforcers from '../features/enforcers/schemas.js';
import type * as Fleet from '../features/fleet/schemas.js';
import type * as Identities from '../features/identities/schemas.js';
import type * as Auth from '../features/auth/schemas.js';
import type * as Me from '../features/me/schemas.js';
import type * as Operations from '../features/operations/schemas.js';
import type * as Orders from '../features/orders/schemas.js';
import type * as Policies from '../features/policies/schemas.js';
import type * as Common from '../http/schemas.js';

export type { Role } from '../auth/roles.js';

/** A request body as a client sends it (before defaults apply). */
type In<T extends z.ZodType> = z.input<T>;
/** An answer as a client receives it. */
type Out<T extends z.ZodType> = z.output<T>;

export type ErrorBody = Out<typeof Common.ErrorBody>;
/** An error answer (RFC 9457, application/problem+json). */
export type Problem = ErrorBody;

// --- orders
export type IssueOrderRequest = In<typeof Orders.IssueOrderRequest>;
export type OrderAccepted = Out<typeof Orders.OrderAccepted>;
export type LiftRequest = In<typeof Orders.LiftRequest>;
export type LiftAccepted = Out<typeof Orders.LiftAccepted>;
export type ActiveOrderView = Out<typeof Orders.ActiveOrderView>;
export type OrdersList = Out<typeof Orders.OrdersList>;
export type Progress = Out<typeof Orders.Progress>;
export type OrderStatus = Out<typeof Orders.OrderStatus>;

// --- approvals
export type ApprovalRequest = In<typeof Approvals.ApprovalRequest>;
export type ApprovalAccepted = Out<typeof Approvals.ApprovalAccepted>;
export type ApprovalRevoked = Out<typeof Approvals.ApprovalRevoked>;

// --- identities
export type IdentitySummary = Out<typeof Identities.IdentitySummary>;
export type IdentitiesPage = Out<typeof Identities.IdentitiesPage>;
export type ScopeView = Out<typeof Identities.ScopeView>;
export type PastScopeView = Out<typeof Identities.PastScopeView>;
export type HistoryItem = Out<typeof Identities.History>['items'][number];
export type History = Out<typeof Identities.History>;
export type Explanation = Out<typeof Identities.Explanation>;

// --- alerts
export type AlertView = Out<typeof Alerts.AlertView>;
export type AlertsList = Out<typeof Alerts.AlertsList>;
export type AlertAckRequest = In<typeof Alerts.AckRequest>;
export type AlertAck = Out<typeof Alerts.AlertAck>;

// --- the caller, the fleet, the change feed, enforcement points, operations
export type WhoAmI = Out<typeof Me.WhoAmI>;
export type SignInConfig = Out<typeof Auth.SignInConfig>;
export type FleetSummary = Out<typeof Fleet.FleetSummary>;
export type ChangeItem = Out<typeof Changes.ChangeItem>;
export type ChangesList = Out<typeof Changes.ChangesList>;
export type EnforcerView = Out<typeof Enforcers.EnforcerView>;
export type EnforcersList = Out<typeof Enforcers.EnforcersList>;
export type Readiness = Out<typeof Operations.Readiness>;

// --- policies
export type PolicySetView = Out<typeof Policies.PolicySetView>;
export type PolicyValidation = Out<typeof Policies.ValidationResult>;
export type PolicyTestRequest = In<typeof Policies.TestRequest>;
export type PolicyTestResult = Out<typeof Policies.TestResult>;
export type PolicyDiffRequest = In<typeof Policies.DiffRequest>;
export type PolicyDiff = Out<typeof Policies.DiffResult>;
export type PolicyImpactRequest = In<typeof Policies.ImpactRequest>;
export type PolicyImpact = Out<typeof Policies.ImpactResult>;
export type PolicyPublishRequest = In<typeof Policies.PublishRequest>;
export type PolicyRollbackRequest = In<typeof Policies.RollbackRequest>;
export type PolicyPublication = Out<typeof Policies.Publication>;
export type PolicyPublications = Out<typeof Policies.PublicationsList>;
export type PolicyApplyStatus = Out<typeof Policies.ApplyStatus>;
export type PolicyHistory = Out<typeof Policies.PolicyHistory>;
