/**
 * Which recorded events a trusted producer signs in production, for the benchmarks: control
 * events (policies, grants, approvals, orders), identity lifecycle (an unsigned `identity.created`
 * makes a provisional identity with no scope) and sessions (the session issuer). Telemetry and
 * secret-access observations go unsigned, as sidecars and audit adapters send them. Benchmarks
 * that drive the engine in process give it the verdict the worker's keyring would.
 */
import { isControlEventType } from '@livescope/contracts';
import { UNSIGNED, type ProducerVerdict } from '@livescope/scope-engine';

export function signedInProduction(type: string): boolean {
  return isControlEventType(type) || type.startsWith('identity.') || type.startsWith('session.');
}

const BENCH_PRODUCER: ProducerVerdict = { kind: 'trusted', keyId: 'bench-provisioning' };

/** The producer verdict the worker would reach for an event of `type` sent as in production. */
export function producerOf(type: string): ProducerVerdict {
  return signedInProduction(type) ? BENCH_PRODUCER : UNSIGNED;
}
