import { matchesAny } from '../common/globMatch.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';
import { isSsoRole, roleIdentity } from '../cloudtrail/awsIdentity.js';

export type K8sPrincipal =
  | { readonly kind: 'identity'; readonly identity: IdentityDescription; readonly field: string }
  | { readonly kind: 'human'; readonly actor: string; readonly field: string; readonly why: string }
  | { readonly kind: 'skip'; readonly field: string; readonly why: string };

/** `k8s:<namespace>/<name>`: the id of a service account, shared with the Vault adapter's Kubernetes auth. */
export function serviceAccountIdentity(namespace: string, name: string, labels: Record<string, string> = {}): IdentityDescription {
  return { id: `k8s:${idPart(namespace)}/${idPart(name)}`, kind: 'service-account', name, namespace, labels: labelsOf({ source: 'kubernetes', ...labels }) };
}

/**
 * Usernames of managed-platform agents that are machines although they lack the `system:` prefix:
 * EKS controllers (`eks:node-manager`, `eks:certificate-controller`, `eks:addon-manager`…), AKS
 * control-plane clients, GKE's node bootstrap user. `eks:support-engineer` (AWS staff) is a person.
 */
export const BUILTIN_MACHINE_USERS: readonly string[] = ['eks:*', 'aksService', 'aksProblemDetector', 'masterclient', 'nodeclient', 'kubelet'];
export const BUILTIN_HUMAN_USERS: readonly string[] = ['eks:support-engineer', 'kubernetes-admin', 'aks-support'];

export interface K8sPrincipalRules {
  /** Usernames (globs with `*`) that are machines, in addition to the built-in list. */
  readonly machineUsers: readonly string[];
  /** Usernames (globs) that are people even if another rule would make them machines. */
  readonly humanUsers: readonly string[];
}

const first = (v: unknown): string | undefined => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'string' ? v : undefined);

/** The IAM principal EKS authenticated (its canonical ARN in `user.extra`, or the username itself). */
function eksIamPrincipal(username: string, extra: Record<string, unknown> | null | undefined): { arn: string; field: string } | undefined {
  const canonical = first(extra?.canonicalArn) ?? first(extra?.arn);
  if (canonical?.startsWith('arn:aws')) return { arn: canonical, field: 'user.extra.canonicalArn' };
  if (username.startsWith('arn:aws')) return { arn: username, field: 'user.username' };
  return undefined;
}

function awsPrincipal(arn: string, field: string): K8sPrincipal {
  const role = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):(?:role\/(?:.*\/)?|assumed-role\/)([^/]+)/.exec(arn);
  if (role) {
    if (isSsoRole(role[2]!)) return { kind: 'human', actor: arn, field, why: `${field} ${arn} is an IAM Identity Center role (a person's session)` };
    return { kind: 'identity', field, identity: roleIdentity(role[1]!, role[2]!, { 'aws.role_arn': `arn:aws:iam::${role[1]}:role/${role[2]}` }) };
  }
  const user = /^arn:aws[a-z-]*:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) return { kind: 'identity', field, identity: { id: `aws:${user[1]}:user/${idPart(user[2]!)}`, kind: 'service-account', name: user[2]!, namespace: user[1]!, labels: labelsOf({ source: 'aws', 'aws.account': user[1], 'aws.user_arn': arn }) } };
  if (/:root$/.test(arn)) return { kind: 'human', actor: arn, field, why: `${field} ${arn} is the account root user (a person)` };
  return { kind: 'skip', field, why: `${field} ${arn} is not an IAM role or user` };
}

/**
 * The identity behind a Kubernetes user (documented in docs/adapters.md), first match:
 * - a name listed in `humanUsers` (and `eks:support-engineer`, `kubernetes-admin`) → a person;
 * - `system:serviceaccount:<ns>:<name>` → `k8s:<ns>/<name>` (service account);
 * - `system:anonymous` → skipped (unauthenticated);
 * - `system:node:<name>` → `k8s:node/<name>` (workload: the kubelet);
 * - other `system:` users (controller manager, scheduler…) → `k8s:system/<name>`;
 * - a name matching `machineUsers` or the built-in managed-platform agents (`eks:*`, AKS clients…) →
 *   `k8s:user/<name>` (workload);
 * - an IAM principal EKS mapped (`user.extra.canonicalArn`, or an ARN as username) → the CloudTrail
 *   adapter's id `aws:<account>:role/<name>` (`AWSReservedSSO_*` roles are people);
 * - a user in group `system:nodes` → a node; in `system:serviceaccounts` → a service account;
 * - anyone else → a person (usually from an OIDC provider or a client certificate).
 */
export function principalOf(user: { username?: string | undefined; groups?: readonly string[] | null | undefined; extra?: Record<string, unknown> | null | undefined }, rules: K8sPrincipalRules, field = 'user.username'): K8sPrincipal {
  const username = user.username;
  if (!username) return { kind: 'skip', field, why: `${field} is missing: the event names no user` };
  if (matchesAny(rules.humanUsers, username) || BUILTIN_HUMAN_USERS.includes(username)) return { kind: 'human', actor: username, field, why: `${field} ${username} is a person (listed as human)` };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  if (sa) return { kind: 'identity', field, identity: serviceAccountIdentity(sa[1]!, sa[2]!) };
  if (username === 'system:anonymous') return { kind: 'skip', field, why: `${field} system:anonymous: an unauthenticated request` };
  const node = /^system:node:(.+)$/.exec(username);
  if (node) return { kind: 'identity', field, identity: nodeIdentity(node[1]!) };
  if (username.startsWith('system:')) {
    const name = username.slice('system:'.length);
    return { kind: 'identity', field, identity: { id: `k8s:system/${idPart(name)}`, kind: 'service-account', name, namespace: 'kube-system', labels: { source: 'kubernetes', 'k8s.role': 'control-plane' } } };
  }
  if (matchesAny(rules.machineUsers, username) || matchesAny(BUILTIN_MACHINE_USERS, username)) {
    return { kind: 'identity', field, identity: { id: `k8s:user/${idPart(username)}`, kind: 'workload', name: username, namespace: 'cluster', labels: { source: 'kubernetes', 'k8s.role': 'platform-agent' } } };
  }
  const iam = eksIamPrincipal(username, user.extra);
  if (iam) return awsPrincipal(iam.arn, iam.field);
  const groups = user.groups ?? [];
  if (groups.includes('system:nodes')) return { kind: 'identity', field: 'user.groups', identity: nodeIdentity(username) };
  return { kind: 'human', actor: username, field, why: `${field} ${username} is not a service account, system component or listed machine user: a person (list machine users with --machine-users)` };
}

export function nodeIdentity(name: string): IdentityDescription {
  return { id: `k8s:node/${idPart(name)}`, kind: 'workload', name, namespace: 'kube-system', labels: { source: 'kubernetes', 'k8s.role': 'node' } };
}
