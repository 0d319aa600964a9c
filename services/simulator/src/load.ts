import type { LivescopeEventInput } from '@livescope/contracts';
import { provisioningEvents, rolesFor, type FleetMember } from './fleet.js';
import { Random } from './random.js';
import { defaultMix, traffic, type TrafficMix } from './traffic.js';

/**
 * Load helpers for benchmarks: whole workloads generated from a seed, so two runs (or a worker and
 * its baseline in one run) see the same data.
 */

/** Every provisioning event of a fleet, all at `atMs`. */
export function* fleetProvisioning(fleet: readonly FleetMember[], atMs: number, source = 'simulator'): Generator<LivescopeEventInput> {
  for (const m of fleet) yield* provisioningEvents(m, atMs, source);
}

/** The first `count` events of the seeded traffic, one millisecond apart from `startMs`. */
export function* trafficSlice(seed: number, fleet: readonly FleetMember[], startMs: number, count: number, mix: TrafficMix = defaultMix): Generator<LivescopeEventInput> {
  const gen = traffic(seed, fleet, startMs, mix);
  for (let i = 0; i < count; i++) yield gen.next().value;
}

/**
 * A fleet for fan-out: `matching` workloads of one namespace that each hold a write permission in
 * scope (the namespace's db-writer role, plus one more role of it), and `others` identities in the
 * other namespaces. A read-only order on the namespace narrows every matching identity.
 */
export function fanoutFleet(seed: number, matching: number, others: number, namespace = 'payments'): FleetMember[] {
  const rnd = new Random(seed);
  const out: FleetMember[] = [];
  const roles = rolesFor(namespace);
  const writer = roles.find((r) => r.name.endsWith('-db-writer'))!;
  const readers = roles.filter((r) => r !== writer && !r.name.endsWith('-deployer'));
  for (let i = 0; i < matching; i++) out.push({ id: `workload-${namespace}-${String(i).padStart(7, '0')}`, kind: 'workload', namespace, roles: [writer, rnd.pick(readers)] });
  const otherNs = ['checkout', 'ci', 'support', 'data'].filter((n) => n !== namespace);
  for (let i = 0; i < others; i++) {
    const ns = rnd.pick(otherNs);
    const r = rolesFor(ns);
    out.push({ id: `agent-${ns}-${String(i).padStart(7, '0')}`, kind: 'agent', namespace: ns, roles: [rnd.pick(r)] });
  }
  return out;
}
