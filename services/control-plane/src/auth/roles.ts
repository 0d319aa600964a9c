/**
 * Who may do what. Roles come from a token claim (`roles` unless `LIVESCOPE_API_ROLES_CLAIM` names
 * another), optionally mapped from an identity provider's groups (`LIVESCOPE_API_ROLE_MAPPING`);
 * unknown role names are ignored.
 * - responder: narrowing orders, and lifting orders it issued itself;
 * - approver: widening — lifting anyone's order, granting escalation approvals;
 * - soc: reading alerts and views;
 * - admin: everything.
 * Nothing that widens scope is open to a role without the approver power (admin includes it).
 */
export const Role = {
  responder: 'responder',
  approver: 'approver',
  soc: 'soc',
  admin: 'admin',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const allRoles: readonly Role[] = Object.values(Role);

/** The authenticated caller: the token subject (recorded as the actor of what it does) and its roles. */
export interface Principal {
  readonly sub: string;
  readonly roles: ReadonlySet<Role>;
  /** The token's issuer (the identity provider that authenticated the caller). */
  readonly issuer: string;
  /**
   * The token carries the configured claim that marks a person (`LIVESCOPE_API_PERSON_CLAIM`):
   * only a person may approve an escalation.
   */
  readonly person: boolean;
  /** When the caller authenticated at the identity provider (`auth_time`, else `iat`), epoch ms. */
  readonly authenticatedAt?: number;
  /** When the token expires (`exp`), epoch ms: long-lived responses (event streams) end there. */
  readonly expiresAt?: number;
}

export function principalOf(sub: string, claimedRoles: readonly unknown[], facts: { issuer?: string; person?: boolean; authenticatedAt?: number; expiresAt?: number } = {}): Principal {
  const known = new Set<string>(allRoles);
  return {
    sub,
    roles: new Set(claimedRoles.filter((r): r is Role => typeof r === 'string' && known.has(r))),
    issuer: facts.issuer ?? 'livescope',
    person: facts.person ?? false,
    ...(facts.authenticatedAt !== undefined ? { authenticatedAt: facts.authenticatedAt } : {}),
    ...(facts.expiresAt !== undefined ? { expiresAt: facts.expiresAt } : {}),
  };
}

/** Whether the principal holds one of `allowed` (admin holds every role). */
export function hasAnyRole(p: Principal, allowed: readonly Role[]): boolean {
  return p.roles.has(Role.admin) || allowed.some((r) => p.roles.has(r));
}

/** Lifting widens scope: approvers may lift any order, a responder only the orders it issued. */
export function canLift(p: Principal, orderActor: string): boolean {
  return hasAnyRole(p, [Role.approver]) || (p.roles.has(Role.responder) && orderActor === p.sub);
}

/** Roles per kind of access, used by the route table (admin is implied everywhere). */
export const access = {
  /** Issue narrowing orders and revoke approvals. */
  narrow: [Role.responder],
  /** Lift: responders reach the handler, which checks ownership; approvers lift anything. */
  lift: [Role.responder, Role.approver],
  /** Grant approvals (widening). */
  widen: [Role.approver],
  /** Identity views, explain, orders and their status, enforcement points. */
  read: [Role.responder, Role.approver, Role.soc],
  /** Drift alerts. */
  alerts: [Role.responder, Role.soc],
} as const satisfies Record<string, readonly Role[]>;
