import type { Access, Permission } from '@livescope/contracts';
import type { PolicyRule } from './K8sAuditEvent.js';

const READ = new Set(['get', 'list', 'watch']);
const ADMIN = new Set(['*', 'escalate', 'bind', 'impersonate']);

export function accessOfVerb(verb: string): Access {
  if (READ.has(verb)) return 'read';
  if (ADMIN.has(verb)) return 'admin';
  return 'write';
}

const BUILTIN_ROLE_ACCESS: Readonly<Record<string, Access>> = { 'cluster-admin': 'admin', admin: 'admin', edit: 'write', view: 'read' };
const MAX_PERMISSIONS = 256;
const RANK: Readonly<Record<Access, number>> = { read: 0, write: 1, admin: 2 };

/**
 * The permissions a binding grants, from the rules of its role when the adapter has seen the role
 * (`k8s:<verb>` on `namespaces/<ns|*>/<resource>[/<resourceName>]`, or the non-resource URL). When the
 * role's rules are unknown, or expand beyond the contract's 256 permissions, the binding is one
 * permission on the role itself (`k8s:role` on `clusterroles/<name>`), with the access of a well-known
 * role or, conservatively, `write` (so read-only orders narrow it).
 */
export function bindingPermissions(roleKey: string, roleName: string, rules: readonly PolicyRule[] | undefined, bindingNamespace: string | undefined): Permission[] {
  const scope = bindingNamespace ? `namespaces/${bindingNamespace}/` : 'namespaces/*/';
  const namespace = bindingNamespace ? { namespace: bindingNamespace } : {};
  if (rules && rules.length > 0) {
    const out = new Map<string, Permission>();
    const widest = rules.flatMap((r) => r.verbs).map(accessOfVerb).reduce<Access>((a, b) => (RANK[b] > RANK[a] ? b : a), 'read');
    for (const rule of rules) {
      const targets: string[] = [];
      for (const url of rule.nonResourceURLs ?? []) targets.push(url);
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
        for (const name of names) targets.push(`${scope}${resource}${name ? `/${name}` : ''}`);
      }
      for (const verb of rule.verbs) {
        for (const resource of targets) {
          const p: Permission = { action: `k8s:${verb}`, resource, access: accessOfVerb(verb), system: 'kubernetes', ...namespace };
          out.set(`${p.action} ${p.resource}`, p);
          if (out.size > MAX_PERMISSIONS) return [rolePermission(roleKey, namespace, widest)];
        }
      }
    }
    if (out.size > 0) return [...out.values()];
  }
  return [rolePermission(roleKey, namespace, BUILTIN_ROLE_ACCESS[roleName] ?? 'write')];
}

function rolePermission(roleKey: string, namespace: { namespace?: string }, access: Access): Permission {
  return { action: 'k8s:role', resource: roleKey, access, system: 'kubernetes', resourceType: 'rbac-role', ...namespace };
}
