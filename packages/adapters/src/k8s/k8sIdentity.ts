import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';

export type K8sPrincipal = { readonly kind: 'identity'; readonly identity: IdentityDescription } | { readonly kind: 'skip'; readonly why: string };

/** `k8s:<namespace>/<name>`: the id of a service account, shared with the Vault adapter's Kubernetes auth. */
export function serviceAccountIdentity(namespace: string, name: string, labels: Record<string, string> = {}): IdentityDescription {
  return { id: `k8s:${idPart(namespace)}/${idPart(name)}`, kind: 'service-account', name, namespace, labels: labelsOf({ source: 'kubernetes', ...labels }) };
}

/**
 * The identity behind a Kubernetes username (documented in docs/adapters.md):
 * - `system:serviceaccount:<ns>:<name>` → `k8s:<ns>/<name>` (service account);
 * - `system:node:<name>` → `k8s:node/<name>` (workload: the kubelet);
 * - other `system:` users (controller manager, scheduler, proxy…) → `k8s:system/<name>` (service account);
 * - names listed in `serviceUsers` (e.g. an EKS-mapped CI role) → `k8s:user/<name>` (workload);
 * - `system:anonymous` and everyone else (people, usually from an OIDC provider or x509) → skipped.
 */
export function principalOf(username: string | undefined, serviceUsers: readonly string[]): K8sPrincipal {
  if (!username) return { kind: 'skip', why: 'the event names no user' };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  if (sa) return { kind: 'identity', identity: serviceAccountIdentity(sa[1]!, sa[2]!) };
  if (username === 'system:anonymous') return { kind: 'skip', why: 'unauthenticated request (system:anonymous)' };
  const node = /^system:node:(.+)$/.exec(username);
  if (node) return { kind: 'identity', identity: { id: `k8s:node/${idPart(node[1]!)}`, kind: 'workload', name: node[1]!, namespace: 'kube-system', labels: { source: 'kubernetes', 'k8s.role': 'node' } } };
  if (username.startsWith('system:')) {
    const name = username.slice('system:'.length);
    return { kind: 'identity', identity: { id: `k8s:system/${idPart(name)}`, kind: 'service-account', name, namespace: 'kube-system', labels: { source: 'kubernetes', 'k8s.role': 'control-plane' } } };
  }
  if (serviceUsers.includes(username)) return { kind: 'identity', identity: { id: `k8s:user/${idPart(username)}`, kind: 'workload', name: username, namespace: 'cluster', labels: { source: 'kubernetes' } } };
  return { kind: 'skip', why: `user ${username} is not a service account or system component (people are not livescope identities)` };
}
