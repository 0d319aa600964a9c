import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';
import type { VaultAuth } from './VaultAuditEntry.js';

/**
 * Who a Vault token belongs to, from the `auth` block of an audit entry. livescope models non-human
 * identities only, so tokens from human auth methods are recognised and skipped.
 */
export type VaultCaller = { readonly kind: 'identity'; readonly identity: IdentityDescription; readonly method: string } | { readonly kind: 'human'; readonly method: string } | { readonly kind: 'unknown'; readonly why: string };

/** Mount-path prefixes of `display_name` that belong to auth methods people log in with. */
export const HUMAN_AUTH_PREFIXES = ['userpass-', 'ldap-', 'okta-', 'radius-', 'github-', 'oidc-'] as const;

const metaString = (auth: VaultAuth, key: string): string | undefined => {
  const v = auth.metadata?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
};

/**
 * Identity rules, first match wins (documented in docs/adapters.md):
 * 1. AppRole (`metadata.role_name`) → `vault:approle/<role>` (workload);
 * 2. Kubernetes auth (`metadata.service_account_namespace` + `service_account_name`) → `k8s:<ns>/<sa>`,
 *    the same id the Kubernetes adapter gives that service account;
 * 3. AWS auth (`metadata.canonical_arn` of a role) → `aws:<account>:role/<name>`, as the CloudTrail adapter;
 * 4. human methods (`display_name` prefixes userpass-, ldap-, okta-, radius-, github-, oidc-) → skipped;
 * 5. JWT auth (`metadata.role`) → `vault:jwt/<role>` (workload);
 * 6. TLS certificates (`display_name` `cert-<name>`) → `vault:cert/<name>` (workload);
 * 7. token auth (`display_name` `root`, `token` or `token-<name>`) → `vault:token/<display_name>` (service account).
 */
export function classifyVaultAuth(auth: VaultAuth | null | undefined, namespace: string): VaultCaller {
  if (!auth) return { kind: 'unknown', why: 'the entry has no auth block' };
  const display = auth.display_name ?? '';
  const labels = (method: string, extra: Record<string, string | undefined> = {}): Record<string, string> => labelsOf({ source: 'vault', 'vault.auth': method, 'vault.entity_id': auth.entity_id, ...extra });
  const roleName = metaString(auth, 'role_name');
  if (roleName) {
    return { kind: 'identity', method: 'approle', identity: { id: `vault:approle/${idPart(roleName)}`, kind: 'workload', name: roleName, namespace, labels: labels('approle') } };
  }
  const saNs = metaString(auth, 'service_account_namespace');
  const saName = metaString(auth, 'service_account_name');
  if (saNs && saName) {
    return { kind: 'identity', method: 'kubernetes', identity: { id: `k8s:${idPart(saNs)}/${idPart(saName)}`, kind: 'service-account', name: saName, namespace: saNs, labels: labels('kubernetes', { 'vault.role': metaString(auth, 'role') }) } };
  }
  const arn = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(metaString(auth, 'canonical_arn') ?? '');
  if (arn) {
    return { kind: 'identity', method: 'aws', identity: { id: `aws:${arn[1]}:role/${idPart(arn[2]!)}`, kind: 'workload', name: arn[2]!, namespace: arn[1]!, labels: labels('aws') } };
  }
  const human = HUMAN_AUTH_PREFIXES.find((p) => display.startsWith(p));
  if (human) return { kind: 'human', method: human.slice(0, -1) };
  const role = metaString(auth, 'role');
  if (role) {
    return { kind: 'identity', method: 'jwt', identity: { id: `vault:jwt/${idPart(role)}`, kind: 'workload', name: role, namespace, labels: labels('jwt', { 'vault.display_name': display }) } };
  }
  if (display.startsWith('cert-')) {
    const name = display.slice('cert-'.length) || display;
    return { kind: 'identity', method: 'cert', identity: { id: `vault:cert/${idPart(name)}`, kind: 'workload', name, namespace, labels: labels('cert') } };
  }
  if (display === 'root' || display === 'token' || display.startsWith('token-')) {
    return { kind: 'identity', method: 'token', identity: { id: `vault:token/${idPart(display)}`, kind: 'service-account', name: display, namespace, labels: labels('token', { 'vault.policies': (auth.token_policies ?? auth.policies ?? []).join(',') }) } };
  }
  if (display) return { kind: 'unknown', why: `unrecognised auth method for display_name ${display}` };
  return { kind: 'unknown', why: 'Vault did not resolve the token (no display_name: unknown or expired token)' };
}

/** Expiry of a token from `token_issue_time` + `token_ttl` (Vault 1.10+), when both are known and the TTL is finite. */
export function tokenExpiry(auth: VaultAuth | null | undefined, fallbackIssue: string): string | undefined {
  if (!auth?.token_ttl || auth.token_ttl <= 0) return undefined;
  const issued = Date.parse(auth.token_issue_time ?? fallbackIssue);
  if (!Number.isFinite(issued)) return undefined;
  return new Date(issued + auth.token_ttl * 1000).toISOString();
}
