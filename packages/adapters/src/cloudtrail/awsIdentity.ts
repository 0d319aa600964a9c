import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';
import type { UserIdentity } from './CloudTrailEvent.js';

export type AwsPrincipal =
  | {
      readonly kind: 'identity';
      readonly identity: IdentityDescription;
      readonly sessionId?: string;
      readonly sessionStartedAt?: string;
      /** Set for EC2 instance-profile credentials: the instance they were delivered to. */
      readonly instanceId?: string;
    }
  | { readonly kind: 'human'; readonly actor: string; readonly field: string; readonly why: string }
  | { readonly kind: 'skip'; readonly field: string; readonly why: string };

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

export function iamUserIdentity(account: string, name: string, arn: string | undefined): IdentityDescription {
  return { id: `aws:${account}:user/${idPart(name)}`, kind: 'service-account', name, namespace: account, labels: labelsOf({ source: 'aws', 'aws.account': account, 'aws.user_arn': arn ?? `arn:aws:iam::${account}:user/${name}` }) };
}

/** EC2 instance-profile credentials name their session after the instance (`i-…`) and carry `ec2RoleDelivery`. */
const INSTANCE_SESSION = /^i-[0-9a-f]{8,17}$/;

/**
 * The calling principal of a CloudTrail event (documented in docs/adapters.md):
 * - `AssumedRole` → the role, `aws:<account>:role/<name>`, in the session named by its ARN
 *   (IAM Identity Center `AWSReservedSSO_*` roles are people);
 * - `IAMUser` → `aws:<account>:user/<name>` (service account: IAM users with access keys are how
 *   machines authenticate without roles; console sign-in as one is reported as human use);
 * - `FederatedUser` (GetFederationToken) → the IAM user that minted it, in the session named by the
 *   federated user's ARN;
 * - `Root`, `SAMLUser`, `IdentityCenterUser` → people; `AWSService`, `AWSAccount`, `WebIdentityUser`
 *   → not a livescope identity as caller (the role they assume is, see AssumeRole*).
 */
export function callerOf(u: UserIdentity): AwsPrincipal {
  switch (u.type) {
    case 'AssumedRole': {
      const issuer = u.sessionContext?.sessionIssuer;
      const parsed = parseAssumedRoleArn(u.arn);
      const name = issuer?.type === 'Role' && issuer.userName ? issuer.userName : parsed?.role;
      const account = u.accountId ?? parsed?.account;
      if (!name || !account) return { kind: 'skip', field: 'userIdentity.arn', why: `userIdentity.arn ${JSON.stringify(u.arn ?? null)} names no role or account` };
      if (isSsoRole(name)) return { kind: 'human', actor: u.arn ?? name, field: 'userIdentity.sessionContext.sessionIssuer.userName', why: `role ${name} is an IAM Identity Center permission set (a person's session)` };
      const session = parsed?.session ?? '';
      const instanceId = INSTANCE_SESSION.test(session) ? session : undefined;
      return {
        kind: 'identity',
        identity: roleIdentity(account, name, { 'aws.role_arn': issuer?.arn }),
        ...(u.arn ? { sessionId: u.arn } : {}),
        ...(u.sessionContext?.attributes?.creationDate ? { sessionStartedAt: u.sessionContext.attributes.creationDate } : {}),
        ...(instanceId ? { instanceId } : {}),
      };
    }
    case 'IAMUser': {
      const name = u.userName ?? /:user\/(?:.*\/)?([^/]+)$/.exec(u.arn ?? '')?.[1];
      if (!name || !u.accountId) return { kind: 'skip', field: 'userIdentity.userName', why: 'IAM user without userIdentity.userName or accountId' };
      return { kind: 'identity', identity: iamUserIdentity(u.accountId, name, u.arn) };
    }
    case 'FederatedUser': {
      const issuer = u.sessionContext?.sessionIssuer;
      const account = issuer?.accountId ?? u.accountId;
      if (issuer?.type !== 'IAMUser' || !issuer.userName || !account) return { kind: 'skip', field: 'userIdentity.sessionContext.sessionIssuer', why: `federated user ${u.arn ?? ''} without the IAM user that minted it (userIdentity.sessionContext.sessionIssuer)` };
      return {
        kind: 'identity',
        identity: iamUserIdentity(account, issuer.userName, issuer.arn),
        ...(u.arn ? { sessionId: u.arn } : {}),
        ...(u.sessionContext?.attributes?.creationDate ? { sessionStartedAt: u.sessionContext.attributes.creationDate } : {}),
      };
    }
    case 'Root':
      return { kind: 'human', actor: u.arn ?? 'root', field: 'userIdentity.type', why: 'userIdentity.type Root: the account root user (a person)' };
    case 'SAMLUser':
      return { kind: 'human', actor: u.userName ?? u.principalId ?? 'saml-user', field: 'userIdentity.type', why: 'userIdentity.type SAMLUser: a SAML-federated person' };
    case 'IdentityCenterUser':
      return { kind: 'human', actor: u.userName ?? u.principalId ?? 'identity-center-user', field: 'userIdentity.type', why: 'userIdentity.type IdentityCenterUser: an IAM Identity Center person' };
    case undefined:
    default:
      return { kind: 'skip', field: 'userIdentity.type', why: `userIdentity.type ${u.type ?? '(missing)'}${u.invokedBy ? ` (${u.invokedBy})` : ''} is not a livescope identity as caller` };
  }
}
