import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';
import type { UserIdentity } from './CloudTrailEvent.js';

export type AwsPrincipal =
  | { readonly kind: 'identity'; readonly identity: IdentityDescription; readonly sessionId?: string; readonly sessionStartedAt?: string }
  | { readonly kind: 'skip'; readonly why: string };

/** IAM Identity Center (SSO) permission-set roles: only people assume them. */
export const isSsoRole = (name: string): boolean => name.startsWith('AWSReservedSSO_');

/** `arn:aws:iam::<account>:role/<path/>name` → account and name. */
export function parseRoleArn(arn: string | undefined): { account: string; name: string; arn: string } | undefined {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn ?? '');
  return m ? { account: m[1]!, name: m[2]!, arn: arn! } : undefined;
}

/** `arn:aws:sts::<account>:assumed-role/<role>/<session>` → account, role and session names. */
export function parseAssumedRoleArn(arn: string | undefined): { account: string; role: string; session: string } | undefined {
  const m = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn ?? '');
  return m ? { account: m[1]!, role: m[2]!, session: m[3]! } : undefined;
}

export function roleIdentity(account: string, name: string, extraLabels: Record<string, string | undefined> = {}): IdentityDescription {
  return { id: `aws:${account}:role/${idPart(name)}`, kind: 'workload', name, namespace: account, labels: labelsOf({ source: 'aws', 'aws.account': account, ...extraLabels }) };
}

/**
 * The calling principal of a CloudTrail event (documented in docs/adapters.md):
 * - `AssumedRole` → the role, `aws:<account>:role/<name>`, in the session named by its ARN
 *   (IAM Identity Center `AWSReservedSSO_*` roles are people: skipped);
 * - `IAMUser` → `aws:<account>:user/<name>` (service account: IAM users with access keys are how
 *   machines authenticate without roles; console sign-in as one is reported as human use);
 * - `Root`, `SAMLUser` → people, skipped; `AWSService`, `AWSAccount`, `WebIdentityUser` → not a
 *   livescope identity as caller (the role they assume is, see AssumeRole*).
 */
export function callerOf(u: UserIdentity): AwsPrincipal {
  switch (u.type) {
    case 'AssumedRole': {
      const issuer = u.sessionContext?.sessionIssuer;
      const parsed = parseAssumedRoleArn(u.arn);
      const name = issuer?.type === 'Role' && issuer.userName ? issuer.userName : parsed?.role;
      const account = u.accountId ?? parsed?.account;
      if (!name || !account) return { kind: 'skip', why: 'assumed-role caller without a role name or account' };
      if (isSsoRole(name)) return { kind: 'skip', why: `IAM Identity Center role ${name} (a person's session)` };
      return { kind: 'identity', identity: roleIdentity(account, name, { 'aws.role_arn': issuer?.arn }), ...(u.arn ? { sessionId: u.arn } : {}), ...(u.sessionContext?.attributes?.creationDate ? { sessionStartedAt: u.sessionContext.attributes.creationDate } : {}) };
    }
    case 'IAMUser': {
      const name = u.userName ?? /:user\/(?:.*\/)?([^/]+)$/.exec(u.arn ?? '')?.[1];
      if (!name || !u.accountId) return { kind: 'skip', why: 'IAM user without a name or account' };
      return { kind: 'identity', identity: { id: `aws:${u.accountId}:user/${idPart(name)}`, kind: 'service-account', name, namespace: u.accountId, labels: labelsOf({ source: 'aws', 'aws.account': u.accountId, 'aws.user_arn': u.arn }) } };
    }
    case 'Root':
      return { kind: 'skip', why: 'the account root user (a person)' };
    case 'SAMLUser':
      return { kind: 'skip', why: 'a SAML-federated person' };
    case undefined:
    default:
      return { kind: 'skip', why: `caller of type ${u.type ?? 'unknown'} is not a livescope identity` };
  }
}
