import type { IdentityKind, LivescopeEventInput, Permission } from '@livescope/contracts';
import { Random } from './random.js';

/**
 * A synthetic fleet of non-human identities, generated deterministically from a seed: agents,
 * workloads, service accounts and CI jobs in a few namespaces, each with one to three roles.
 */
export interface Role {
  readonly name: string;
  readonly permissions: readonly Permission[];
}

export const namespaces = ['payments', 'checkout', 'ci', 'support', 'data'] as const;

export function rolesFor(ns: string): Role[] {
  return [
    { name: `${ns}-db-reader`, permissions: [{ action: 'db:read', resource: `db/${ns}`, access: 'read', namespace: ns, system: 'postgres' }] },
    {
      name: `${ns}-db-writer`,
      permissions: [
        { action: 'db:read', resource: `db/${ns}`, access: 'read', namespace: ns, system: 'postgres' },
        { action: 'db:write', resource: `db/${ns}`, access: 'write', namespace: ns, system: 'postgres' },
      ],
    },
    { name: `${ns}-deployer`, permissions: [{ action: 'k8s:deploy', resource: `k8s/${ns}/deployments`, access: 'write', namespace: ns, system: 'kubernetes' }, { action: 'k8s:read', resource: `k8s/${ns}/deployments`, access: 'read', namespace: ns, system: 'kubernetes' }] },
    { name: `${ns}-secrets`, permissions: [{ action: 'secrets:read', resource: `secret/${ns}/app`, access: 'read', namespace: ns, system: 'vault' }] },
    { name: `${ns}-tickets`, permissions: [{ action: 'tickets:read', resource: `tickets/${ns}`, access: 'read', namespace: ns, system: 'jira' }, { action: 'tickets:write', resource: `tickets/${ns}`, access: 'write', namespace: ns, system: 'jira' }] },
    { name: `${ns}-tools`, permissions: [{ action: 'tool:invoke', resource: `tools/${ns}/chain`, access: 'write', namespace: ns, system: 'agent-router' }] },
  ];
}

export interface FleetMember {
  readonly id: string;
  readonly kind: IdentityKind;
  readonly namespace: string;
  readonly roles: readonly Role[];
}

const kinds: readonly IdentityKind[] = ['agent', 'workload', 'service-account', 'ci-job'];

export function fleetMembers(seed: number, size: number): FleetMember[] {
  const rnd = new Random(seed);
  const out: FleetMember[] = [];
  for (let i = 0; i < size; i++) {
    const kind = kinds[i % kinds.length]!;
    const namespace = rnd.pick(namespaces);
    const roles = rolesFor(namespace);
    const count = 1 + rnd.int(3);
    const chosen = new Set<Role>();
    while (chosen.size < count) chosen.add(rnd.pick(roles));
    out.push({ id: `${kind}-${namespace}-${String(i).padStart(6, '0')}`, kind, namespace, roles: [...chosen] });
  }
  return out;
}

/** The provisioning events of a member: created, then one role grant per role. */
export function provisioningEvents(m: FleetMember, atMs: number, source = 'simulator'): LivescopeEventInput[] {
  const time = new Date(atMs).toISOString();
  const events: LivescopeEventInput[] = [
    { specversion: '1.0', id: `${m.id}/created`, type: 'identity.created', source, time, subject: m.id, data: { kind: m.kind, name: m.id, namespace: m.namespace, owner: `team-${m.namespace}`, labels: { team: m.namespace, env: 'prod' } } },
  ];
  for (const r of m.roles) {
    events.push({ specversion: '1.0', id: `${m.id}/grant/${r.name}`, type: 'entitlement.granted', source, time, subject: m.id, data: { grantId: `${m.id}/${r.name}`, role: r.name, permissions: [...r.permissions] } });
  }
  return events;
}
