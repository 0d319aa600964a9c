/**
 * One enforcement point for the fan-out benchmark, in its own process: the enforcer SDK,
 * bootstrapped from the snapshots, then held until quiet. It prints READY with the versions it
 * holds; from then on it records, per identity, the instant (epoch ms, sub-ms) at which it applied
 * a newer version that no longer holds `action`, and prints RESULT when `expected` identities
 * have been narrowed (or at the timeout).
 */
import { Enforcer } from '@livescope/enforcer';
import { createLogger, parsePublicKey } from '@livescope/transport';

export interface EnforcerSpec {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly prefix: string;
  readonly kid: string;
  readonly publicKey: string;
  readonly id: string;
  readonly expected: number;
  readonly action: string;
  readonly timeoutMs: number;
}

export interface EnforcerResult {
  readonly id: string;
  readonly narrowed: number;
  /** Epoch ms at which each identity's narrowing was applied, ascending. */
  readonly times: number[];
  readonly identities: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as EnforcerSpec;
const now = (): number => performance.timeOrigin + performance.now();
const enforcer = new Enforcer({
  brokers: spec.brokers,
  registryUrl: spec.registryUrl,
  enforcerId: spec.id,
  trustedKeys: [parsePublicKey(spec.kid, spec.publicKey)],
  logger: createLogger('bench-enforcer', 'error'),
  topicPrefix: spec.prefix,
  reportDecisions: false,
});
await enforcer.start();
await enforcer.ready;
// Quiet: nothing applied for a second (the bootstrap and any trailing changes are done).
let last = -1;
for (let i = 0; i < 600; i++) {
  await new Promise((r) => setTimeout(r, 200));
  const applied = enforcer.stats.applied + enforcer.stats.stale;
  if (applied === last && i >= 5) break;
  last = applied;
}
const held = new Map<string, number>();
for (const [id, v] of enforcer.state.identities) held.set(id, v.version);
const times = new Map<string, number>();
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const apply = enforcer.state.applyScope.bind(enforcer.state);
enforcer.state.applyScope = (c) => {
  const outcome = apply(c);
  if (outcome === 'applied' && !times.has(c.identityId) && c.version > (held.get(c.identityId) ?? 0) && !c.permissions.some((p) => p.action === spec.action)) {
    times.set(c.identityId, now());
    if (times.size >= spec.expected) done();
  }
  return outcome;
};
process.stdout.write(`READY ${enforcer.state.identities.size}\n`);
const timer = setTimeout(done, spec.timeoutMs);
await finished;
clearTimeout(timer);
const result: EnforcerResult = { id: spec.id, narrowed: times.size, times: [...times.values()].sort((a, b) => a - b), identities: enforcer.state.identities.size };
// At 100,000 identities the line is megabytes: exit only once the pipe has taken all of it.
await new Promise<void>((resolve) => process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => resolve()));
await enforcer.stop().catch(() => undefined);
process.exit(0);
