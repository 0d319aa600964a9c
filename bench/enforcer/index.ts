/**
 * `authorize()` of the enforcer SDK with 100k identities held, against a plain `Map.get` of the
 * same keys in the same run. In-process, no infrastructure: the state is filled with the scope
 * snapshots an enforcement point would hold (applied through `EnforcerState.applyScope`, as the
 * Kafka consumer does). Three callers are timed on the same request stream:
 *   - `Map.get(identityId)` on a Map holding the same 100k keys (the floor),
 *   - `EnforcerState.authorize` (the decision alone),
 *   - `Enforcer.authorize` (the SDK entry point with its defaults: decision reporting on).
 * Per-call time = time of a batch of `BATCH` consecutive calls / `BATCH` (process.hrtime.bigint);
 * percentiles are over batches. The stream mixes allowed (in scope, live session) and denied
 * requests (not in scope, ended session, unknown identity), each identity with a few permissions,
 * a quarter of them with an absolute `validUntil`.
 *
 * Heap per identity: the heap used after a full GC with the state filled, less before, over the
 * identities (the snapshots applied stay referenced meanwhile, so only what the state adds counts);
 * not at smoke sizes, where the state is within the few MB a full GC's result varies by.
 *
 * Request strings are copies, as a caller parses them off the wire (`--shared-strings`: the held
 * string objects themselves, as before).
 *
 *   npm run bench -- enforcer [--smoke] [--shared-strings]
 */
import { asIdentityId, asSessionId, type ScopePermission, type ScopeSnapshot } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { fleetMembers, Random } from '@livescope/simulator';
import { createLogger } from '@livescope/transport';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseBenchArgs, percentile, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const IDENTITIES = args.smoke ? 5_000 : 100_000;
const REQUESTS = args.smoke ? 20_000 : 400_000;
const BATCH = 16;
const ROUNDS = args.smoke ? 2 : 10;
const SEED = 7;
const now = Date.now();
/** The targets (issue 15), in µs. */
const TARGET_P50_US = 1;
const TARGET_P99_US = 3;
// A full GC on demand without starting node with --expose-gc (flag set at run time, gc taken from a fresh context).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// After a turn of the event loop: what the loader keeps alive for the current job is let go first.
const heapUsed = async (): Promise<number> => {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

progress(`building ${IDENTITIES.toLocaleString()} identities' scopes`);
const enforcer = new Enforcer({ brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', enforcerId: 'bench', trustedKeys: [], logger: createLogger('bench-enforcer', 'silent'), sensitiveActions: ['secrets:read', 'vault:read'] });
const state = enforcer.state;
const fleet = fleetMembers(SEED, IDENTITIES);
const rnd = new Random(SEED);
interface Req {
  readonly id: string;
  readonly session: string | undefined;
  readonly action: string;
  readonly resource: string;
}
const perIdentity: { id: string; session: string; perms: ScopePermission[] }[] = [];
const snapshots: ScopeSnapshot[] = [];
for (const m of fleet) {
  const perms: ScopePermission[] = [];
  const seen = new Set<string>();
  for (const r of m.roles)
    for (const p of r.permissions) {
      const k = `${p.action} ${p.resource}`;
      if (seen.has(k)) continue;
      seen.add(k);
      perms.push({ action: p.action, resource: p.resource, access: p.access, validUntil: rnd.chance(0.25) ? new Date(now + 3_600_000 + rnd.int(3_600_000)).toISOString() : null, grants: [`${m.id}/${r.name}`] });
    }
  const session = `${m.id}/s1`;
  snapshots.push({ kind: 'scope.snapshot', identityId: asIdentityId(m.id), version: 1 + rnd.int(20), at: new Date(now).toISOString(), status: 'active', permissions: perms, sessions: [asSessionId(session)] });
  perIdentity.push({ id: m.id, session, perms });
}
const heapBefore = await heapUsed();
for (const snapshot of snapshots) state.applyScope(snapshot);
const heapPerIdentity = ((await heapUsed()) - heapBefore) / snapshots.length;
snapshots.length = 0;
// At smoke sizes the state is smaller than what a full GC's result varies by (a few MB here).
const heapNote = args.smoke ? 'state heap per identity not measured at smoke sizes' : `state heap ${heapPerIdentity.toFixed(0)} B per identity`;
progress(heapNote);
// Heartbeats for every partition, so sensitive actions are not failed closed for staleness.
for (let p = 0; p < 64; p++) state.heartbeat(p, now + 3_600_000);

// A caller reads the request's strings off the wire: equal to the strings held, never the same
// objects, so every lookup hashes and compares contents. `--shared-strings` passes the held objects
// themselves (pointer-equal keys: the method of the measurements before issue 15's change).
const sharedStrings = args.argv.includes('--shared-strings');
const wire = (s: string): string => (sharedStrings ? s : Buffer.from(s, 'utf8').toString('utf8'));
const request = (id: string, session: string, action: string, resource: string): Req => ({ id: wire(id), session: wire(session), action: wire(action), resource: wire(resource) });
const requests: Req[] = [];
for (let i = 0; i < REQUESTS; i++) {
  const who = perIdentity[rnd.int(perIdentity.length)]!;
  const r = rnd.next();
  if (r < 0.8) {
    const p = who.perms[rnd.int(who.perms.length)]!;
    requests.push(request(who.id, who.session, p.action, p.resource));
  } else if (r < 0.9) requests.push(request(who.id, who.session, 'console:admin', 'console/prod'));
  else if (r < 0.95) requests.push(request(who.id, `${who.id}/ended`, who.perms[0]!.action, who.perms[0]!.resource));
  else requests.push(request(`unknown-${i}`, 's', 'db:read', 'db/x'));
}
// The same SDK without decision reporting, sharing the state: isolates the cost of the report.
const quiet = new Enforcer({ brokers: ['127.0.0.1:9'], registryUrl: 'http://127.0.0.1:9', enforcerId: 'bench-quiet', trustedKeys: [], logger: createLogger('bench-enforcer', 'silent'), sensitiveActions: ['secrets:read', 'vault:read'], reportDecisions: false });
(quiet as unknown as { state: typeof state }).state = state;
const plain = new Map<string, unknown>();
for (const [k, v] of state.identities) plain.set(k, v);
const options = { requireSession: true, sensitive: (a: string) => a === 'secrets:read' || a === 'vault:read', maxStalenessMs: 30_000 };

type Caller = (q: Req) => unknown;
const callers: [string, Caller][] = [
  ['Map.get(identityId) — baseline', (q) => plain.get(q.id)],
  ['EnforcerState.authorize', (q) => state.authorize(q.id, q.session, q.action, q.resource, now, options)],
  ['Enforcer.authorize (SDK, decision reporting on)', (q) => enforcer.authorize(q.id, q.session, q.action, q.resource, now)],
  ['Enforcer.authorize (SDK, reporting off)', (q) => quiet.authorize(q.id, q.session, q.action, q.resource, now)],
];

function measure(call: Caller): number[] {
  const out: number[] = [];
  let sink = 0;
  for (let i = 0; i + BATCH <= requests.length; i += BATCH) {
    const start = process.hrtime.bigint();
    for (let j = i; j < i + BATCH; j++) if (call(requests[j]!) !== undefined) sink++;
    out.push(Number(process.hrtime.bigint() - start) / BATCH);
  }
  if (sink < 0) throw new Error('unreachable');
  return out;
}

const samples = new Map<string, number[]>(callers.map(([n]) => [n, []]));
progress('warm-up');
for (const [, c] of callers) measure(c);
// Interleaved rounds, so drift on a shared machine hits every caller alike.
for (let round = 0; round < ROUNDS; round++) {
  progress(`round ${round + 1}/${ROUNDS}: ${requests.length.toLocaleString()} requests per caller in batches of ${BATCH}`);
  for (const [name, c] of callers) samples.get(name)!.push(...measure(c));
}
const allowed = requests.filter((q) => state.authorize(q.id, q.session, q.action, q.resource, now, options).allowed).length;

const base = samples.get(callers[0]![0])!.sort((a, b) => a - b);
const rows: Row[] = [];
const verdicts: string[] = [];
const us = (ns: number): number => ns / 1000;
for (const [name] of callers) {
  const s = samples.get(name)!.sort((a, b) => a - b);
  const [p50, p99, p999] = [percentile(s, 50), percentile(s, 99), percentile(s, 99.9)];
  rows.push({ caller: name, 'p50 µs': us(p50), 'p99 µs': us(p99), 'p99.9 µs': us(p999), 'p50 ratio to Map.get': p50 / percentile(base, 50), 'p99 ratio to Map.get': p99 / percentile(base, 99) });
  if (name !== callers[0]![0]) verdicts.push(`${name}: p50 ${us(p50).toPrecision(3)} µs (target ≤ ${TARGET_P50_US} µs — ${us(p50) <= TARGET_P50_US ? 'met' : 'NOT met'}), p99 ${us(p99).toPrecision(3)} µs (target ≤ ${TARGET_P99_US} µs — ${us(p99) <= TARGET_P99_US ? 'met' : 'NOT met'})`);
}
publish(
  {
    name: 'enforcer: authorize() with 100k identities held vs Map.get',
    command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- enforcer',
    setup:
      `${state.identities.size.toLocaleString()} identities held (simulator fleet seed ${SEED}, 1-3 roles each, ${(perIdentity.reduce((n, x) => n + x.perms.length, 0) / perIdentity.length).toFixed(1)} permissions on average, 25% with an absolute validUntil, one live session each), applied as scope snapshots; ${heapNote}. ` +
      `${requests.length.toLocaleString()} requests (${((allowed / requests.length) * 100).toFixed(0)}% allowed; the rest not in scope, ended session or unknown identity; ${sharedStrings ? 'strings: the held objects themselves' : 'strings copied, as read off the wire'}), ${ROUNDS} interleaved rounds per caller after a warm-up round; ` +
      `per-call time = batch of ${BATCH} consecutive calls / ${BATCH} (process.hrtime.bigint), percentiles over ${base.length.toLocaleString()} batches. In-process, Node ${process.version}, no infrastructure.${args.smoke ? ' SMOKE sizes.' : ''}`,
    rows,
    verdicts,
  },
  args,
);
