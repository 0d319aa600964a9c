/**
 * Per-event cost and memory of the scope engine with 10k, 100k and 1M identities in state, the
 * 10k figure as the baseline. Each size runs in a fresh process (its own heap, `--expose-gc`).
 * The path timed is the worker's CPU path per event without Kafka and PostgreSQL I/O: decode the
 * wire format + validate (zod) → apply → JSON-encode the outputs (changes, snapshots, revocations,
 * alerts) → encode the dirty identity states, in batches of 5,000 as the worker commits them.
 * Signing is left out (a constant per output, independent of fleet size; see worker-throughput).
 * The fleet is provisioned through the same path (create + role grants from the simulator, with
 * the example Cedar policies published), then warmed with traffic before the measured rounds.
 *
 *   npm run bench -- fleet-size [--smoke] [--sizes=10000,100000,1000000]
 */
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { decodeEvent, encodeWireJson, LivescopeEvent, type LivescopeEventInput } from '@livescope/contracts';
import { clearOutput, compileScopePolicy, emptyOutput, encodeIdentity, ScopeEngine, type EngineOutput } from '@livescope/scope-engine';
import { fleetMembers, policiesEvent, provisioningEvents, readPolicyDir, trafficSlice, type FleetMember } from '@livescope/simulator';
import { parseBenchArgs, progress, publish, type Row } from '../lib/report.js';
import { repoRoot } from '../lib/pipeline.js';
import { producerOf } from '../lib/producers.js';

const args = parseBenchArgs();
const SEED = 20261128;
const BATCH = 5000;
const sizesArg = args.argv.find((a) => a.startsWith('--sizes='))?.slice('--sizes='.length);
const SIZES = sizesArg ? sizesArg.split(',').map(Number) : args.smoke ? [2_000, 20_000] : [10_000, 100_000, 1_000_000];
const MEASURED = args.smoke ? 20_000 : 200_000;
const ROUNDS = args.smoke ? 1 : 3;
const RESULT = '@@fleet-size ';

interface SizeResult {
  readonly identities: number;
  readonly provisionUsPerIdentity: number;
  readonly warmEvents: number;
  /** µs per event of each measured round. */
  readonly rounds: number[];
  readonly gcShare: number;
  readonly heapUsed: number;
  readonly baselineHeap: number;
  readonly stateJsonBytes: number;
  readonly changesPerEvent: number;
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  g();
  g();
};

async function runSize(n: number): Promise<SizeResult> {
  const engine = new ScopeEngine({ compilePolicies: compileScopePolicy, verifyReleaseWindow: () => true });
  const t0 = Date.UTC(2026, 10, 1);
  const out = emptyOutput();
  const decodeOptions = { maxBytes: 1 << 20, isKnownSchemaId: () => true };
  const wire = (e: unknown): Buffer => encodeWireJson(1, LivescopeEvent.parse(e));
  let sink = 0;
  const flush = (o: EngineOutput): void => {
    for (const c of o.changes) sink += JSON.stringify(c).length;
    for (const s of o.snapshots) sink += JSON.stringify(s).length;
    for (const r of o.revocations) sink += JSON.stringify(r).length;
    for (const a of o.alerts) sink += JSON.stringify(a).length;
    clearOutput(o);
    for (const s of engine.drainDirty().identities) sink += encodeIdentity(s).length;
  };
  const apply = (bytes: Buffer, ts: number): void => {
    const e = decodeEvent(bytes, decodeOptions);
    engine.handle(e, { timestampMs: ts, producer: producerOf(e.type) }, out);
  };
  apply(wire(policiesEvent(readPolicyDir(`${repoRoot}examples/policies`), 'bench', t0)), t0);
  flush(out);
  // The baseline is the empty engine (code, policies). The fleet description and the traffic
  // generator are the benchmark's, not the engine's: made after the baseline, released before the
  // final measurement.
  gc();
  const baselineHeap = process.memoryUsage().heapUsed;
  let fleet: FleetMember[] | undefined = fleetMembers(SEED, n);
  let stream: Generator<LivescopeEventInput> | undefined = trafficSlice(SEED, fleet, t0 + 60_000, Math.min(Math.max(n, 50_000), 300_000) + ROUNDS * MEASURED);

  let k = 0;
  let provisionMs = 0;
  for (let i = 0; i < n; i += 10_000) {
    const bytes = fleet.slice(i, i + 10_000).flatMap((m) => provisioningEvents(m, t0 + 1).map(wire));
    const start = performance.now();
    for (const b of bytes) {
      apply(b, t0 + 1);
      if (++k % BATCH === 0) flush(out);
    }
    flush(out);
    provisionMs += performance.now() - start;
    if (i % 200_000 === 0 && i > 0) process.stderr.write(`  ${i.toLocaleString()} identities provisioned\n`);
  }

  // Maturity: every identity gets the telemetry the traffic's no-ops repeat (a use of the permission
  // it reports activity on, a baseline risk score), so a no-op is a no-op at every size, as in a
  // fleet with history. Then warm-up traffic, then the measured rounds (fresh slices of one stream).
  for (let i = 0; i < n; i += 10_000) {
    const bytes = fleet.slice(i, i + 10_000).flatMap((m) => {
      const p = m.roles[0]!.permissions[0]!;
      const time = new Date(t0 + 30_000).toISOString();
      return [
        wire({ specversion: '1.0', id: `${m.id}/warm-use`, type: 'telemetry.activity', source: 'bench', time, subject: m.id, data: { action: p.action, resource: p.resource } }),
        wire({ specversion: '1.0', id: `${m.id}/warm-risk`, type: 'telemetry.risk-scored', source: 'bench', time, subject: m.id, data: { score: 10 } }),
      ];
    });
    for (const b of bytes) {
      apply(b, t0 + 30_000);
      if (++k % BATCH === 0) flush(out);
    }
    flush(out);
  }
  const warm = Math.min(Math.max(n, 50_000), 300_000);
  let ts = t0 + 60_000;
  const take = (count: number): Buffer[] => {
    const xs: Buffer[] = [];
    for (let i = 0; i < count; i++) xs.push(wire(stream!.next().value));
    return xs;
  };
  let j = 0;
  for (const b of take(warm)) {
    apply(b, ts++);
    if (++j % BATCH === 0) flush(out);
  }
  flush(out);
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  const rounds: number[] = [];
  let changes = 0;
  let measuredMs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const bytes = take(MEASURED);
    gc();
    obs.observe({ entryTypes: ['gc'] });
    const start = performance.now();
    for (let i = 0; i < bytes.length; i++) {
      apply(bytes[i]!, ts++);
      if ((i + 1) % BATCH === 0) {
        changes += out.changes.length;
        flush(out);
        // One turn of the event loop per batch (as the worker has), so GC entries are delivered.
        await new Promise((r) => setImmediate(r));
      }
    }
    changes += out.changes.length;
    flush(out);
    const ms = performance.now() - start;
    await new Promise((r) => setImmediate(r));
    obs.disconnect();
    measuredMs += ms;
    rounds.push((ms * 1000) / MEASURED);
  }
  fleet = undefined;
  stream = undefined;
  gc();
  const heapUsed = process.memoryUsage().heapUsed;
  let stateBytes = 0;
  let counted = 0;
  for (const s of engine.allIdentities()) {
    stateBytes += Buffer.byteLength(encodeIdentity(s));
    if (++counted >= 10_000) break;
  }
  if (sink === 0 || engine.size !== n) throw new Error(`engine holds ${engine.size} identities, expected ${n}`);
  return { identities: n, provisionUsPerIdentity: (provisionMs * 1000) / n, warmEvents: warm, rounds, gcShare: gcMs / measuredMs, heapUsed, baselineHeap, stateJsonBytes: stateBytes / counted, changesPerEvent: changes / (ROUNDS * MEASURED) };
}

const only = args.argv.find((a) => a.startsWith('--size='))?.slice('--size='.length);
if (only !== undefined) {
  process.stdout.write(`${RESULT}${JSON.stringify(await runSize(Number(only)))}\n`);
  process.exit(0);
}

const results: SizeResult[] = [];
for (const n of SIZES) {
  progress(`${n.toLocaleString()} identities: provisioning, warm-up, ${ROUNDS} × ${MEASURED.toLocaleString()} measured events (own process)`);
  const heapMb = Math.max(4096, Math.ceil((n * 6000) / 2 ** 20) + 1024);
  const child = spawnSync(process.execPath, ['--expose-gc', `--max-old-space-size=${heapMb}`, ...process.execArgv, fileURLToPath(import.meta.url), `--size=${n}`, ...args.argv], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT));
  if (child.status !== 0 || line === undefined) throw new Error(`size ${n} failed (exit ${child.status ?? child.signal})`);
  results.push(JSON.parse(line.slice(RESULT.length)) as SizeResult);
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = results[0]!;
const baseUs = median(base.rounds);
const rows: Row[] = results.map((r) => ({
  identities: r.identities,
  'µs/event (median of rounds)': median(r.rounds),
  'rounds µs/event': r.rounds.map((x) => x.toFixed(2)).join(' / '),
  'ratio to smallest': median(r.rounds) / baseUs,
  'GC share': `${(r.gcShare * 100).toFixed(0)}%`,
  'heap used / identity (B)': Math.round(r.heapUsed / r.identities),
  'marginal heap / identity (B)': Math.round((r.heapUsed - r.baselineHeap) / r.identities),
  'state row JSON (B)': Math.round(r.stateJsonBytes),
  'provision µs/identity': r.provisionUsPerIdentity,
}));
const biggest = results[results.length - 1]!;
const ratio = median(biggest.rounds) / baseUs;
const perIdentity = biggest.heapUsed / biggest.identities;
publish(
  {
    name: 'fleet-size: per-event cost and memory with 10k, 100k and 1M identities',
    command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- fleet-size',
    setup:
      `In-process scope engine (one partition holding the whole fleet), each size in a fresh Node process (--expose-gc). Fleet: simulator seed ${SEED}, 1-3 roles per identity, example Cedar policies published first; provisioned through the decode path. ` +
      `Then each identity gets the telemetry the mix's no-ops repeat (one use of its reported permission, a baseline risk score) so that no-ops are no-ops at every size, then min(max(N, 50k), 300k) warm-up traffic events and ${ROUNDS} measured rounds of ${MEASURED.toLocaleString()} events each (simulator mix), each event decoded from the wire format, validated, applied; every ${BATCH} events the outputs are JSON-encoded and the dirty states encoded, as the worker does before producing and committing (signing, Kafka and PostgreSQL excluded). ` +
      `Heap used after two full GCs at the end; "marginal" subtracts the heap of the empty engine (code, policies). GC share = GC pause time / measured time.${args.smoke ? ' SMOKE sizes.' : ''}`,
    rows,
    verdicts: [
      `${biggest.identities.toLocaleString()} vs ${base.identities.toLocaleString()} identities: ${ratio.toFixed(2)}× the per-event cost; target ≤ 1.5× — ${ratio <= 1.5 ? 'met' : 'NOT met'}`,
      `memory at ${biggest.identities.toLocaleString()}: ${Math.round(perIdentity)} B heap used per identity (${Math.round((biggest.heapUsed - biggest.baselineHeap) / biggest.identities)} B marginal); target ≤ 1536 B (1.5 KiB) — ${perIdentity <= 1536 ? 'met' : 'NOT met (see docs/performance.md)'}`,
    ],
  },
  args,
);
