import type { Access, IdentityKind } from '@livescope/contracts';

/**
 * What the engine asks of the policy layer. The production implementation wraps the compiled
 * Cedar policy set (`cedarScopePolicy`); tests may use simple implementations.
 */

/** The inputs a policy can read, at the granularity the engine tracks changes. */
export const PolicyInput = {
  now: 'context.now',
  session: 'context.session',
  approvals: 'context.approvals',
  riskScore: 'riskScore',
  anomalies: 'context.anomalies',
  humanUse: 'context.humanUseDetected',
  releaseWindows: 'context.releaseWindows',
  incidents: 'context.incidentNamespaces',
  grant: 'context.grant',
  principal: 'principal',
} as const;
export type PolicyInput = (typeof PolicyInput)[keyof typeof PolicyInput];

export interface PrincipalView {
  readonly id: string;
  readonly kind: IdentityKind;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly riskScore: number;
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly roles: readonly string[];
}

export interface ResourceView {
  readonly action: string;
  readonly access: Access;
  readonly resource: string;
  readonly resourceType: string | undefined;
  readonly system: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>> | undefined;
}

export interface ContextView {
  readonly nowMs: number;
  readonly session: { readonly active: boolean; readonly count: number; readonly mfa: boolean; readonly tasks: readonly string[] };
  readonly approvals: readonly string[];
  /** Escalations approved by a verified human (`context.humanApprovals`); the engine accepts no other approvals. */
  readonly humanApprovals: readonly string[];
  readonly riskScore: number;
  readonly anomalies: readonly string[];
  readonly humanUseDetected: boolean;
  readonly releaseWindows: readonly string[];
  readonly incidentNamespaces: readonly string[];
  readonly grant: { readonly jit: boolean; readonly roles: readonly string[] };
}

export interface PolicyDecision {
  readonly allow: boolean;
  /** Policies that determined the decision (permits when allowed, forbids when denied). */
  readonly determining: readonly string[];
  readonly errors: readonly string[];
}

/** How to find the identities a changed policy can affect. */
export interface PolicyScopeHint {
  /** Identity ids the policy is restricted to (principal ==), or undefined when unrestricted. */
  readonly principals?: readonly string[];
  /** Roles the principal must be in (principal in Role::"r"), or undefined. */
  readonly roles?: readonly string[];
  /** Actions the policy applies to, or undefined for any action. */
  readonly actions?: readonly string[];
}

export interface ScopePolicy {
  /** Version of the published policy set; 0 for the built-in default. */
  readonly version: number;
  /** Policy ids with a fingerprint of their text, to find what changed between two sets. */
  readonly fingerprints: ReadonlyMap<string, string>;
  decide(principal: PrincipalView, resource: ResourceView, context: ContextView): PolicyDecision;
  /** The earliest instant after `context.nowMs` at which the decision could change, all else fixed; null = never. */
  horizon(principal: PrincipalView, resource: ResourceView, context: ContextView): number | null;
  /** Whether any policy of the set reads this input. */
  reads(input: PolicyInput): boolean;
  scopeHint(policyId: string): PolicyScopeHint;
}

/** Before any policy set is published, every provisioned permission is in scope (orders still apply). */
export const permitAllPolicy: ScopePolicy = {
  version: 0,
  fingerprints: new Map(),
  decide: () => ({ allow: true, determining: ['builtin:permit-provisioned'], errors: [] }),
  horizon: () => null,
  reads: () => false,
  scopeHint: () => ({}),
};
