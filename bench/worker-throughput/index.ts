/**
 * One scope-worker process (built dist/main.js) against raw kafkajs on the same topic range, same
 * partitions, same fetch settings, in one run. The worker does everything it does in production:
 * wire-format + registry check, zod validation, apply, recompute (the example Cedar policies are
 * published first), sign and produce outputs with acks=all, and commit states + offsets to
 * PostgreSQL in one fenced statement per batch. Its throughput is measured from a warm, assigned,
 * idle worker (held with SIGSTOP while the traffic is loaded) until PostgreSQL holds the end
 * offset of every partition.
 *
 *   npm run bench -- worker-throughput [--smoke] [--profile]
 *   (--profile writes a V8 CPU profile of the worker to bench/profiles/ and prints its summary)
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { topicNames } from '@livescope/contracts';
import { fleetMembers, fleetProvisioning, policiesEvent, readPolicyDir, trafficSlice } from '@livescope/simulator';
import { summarizeProfile } from '../lib/cpuProfile.js';
import { committedOffsets, dumpWorkerLog, fmtRate, LOAD_BATCH, loadEvents, openWorkerBench, repoRoot, sumOffsets, topicEnds, waitCommitted } from '../lib/pipeline.js';
import { runRawConsumer, workerFetchSettings } from '../lib/rawConsumer.js';
import { parseBenchArgs, progress, publish, type Row } from '../lib/report.js';
import { WorkerProcess } from '@livescope/testkit';

const args = parseBenchArgs();
const profile = args.argv.includes('--profile');
const SEED = 20261128;
// The recorded traffic's signed control events carry event times up to TRAFFIC ms + 2 min before the load
// (the broker stamps append time): the worker's replay window is widened to cover them.
const CONTROL_EVENT_AGE_MS = 3_600_000;
const PARTITIONS = 6;
const FLEET = args.smoke ? 500 : 10_000;
const TRAFFIC = args.smoke ? 20_000 : 500_000;
const FETCH_MAX_BYTES = 10 * 1024 * 1024;
const CONCURRENCY = Number(process.env.LIVESCOPE_PARTITIONS_CONCURRENTLY ?? 3);
const MAX_BATCH = 5000;

const { fx, store } = await openWorkerBench(PARTITIONS);
const profileDir = `${repoRoot}bench/profiles`;
let worker: WorkerProcess | undefined;
try {
  const now = Date.now();
  // Event times end about now, so no expiry falls due on the wall clock during the run.
  const policiesAt = now - TRAFFIC - 120_000;
  const trafficAt = policiesAt + 60_000;
  const fleet = fleetMembers(SEED, FLEET);
  progress(`loading the example policies and ${FLEET.toLocaleString()} identities`);
  const provisioning = await loadEvents(fx, [policiesEvent(readPolicyDir(`${repoRoot}examples/policies`), 'bench', policiesAt), ...fleetProvisioning(fleet, policiesAt + 1)]);
  const endsA = await topicEnds(fx.admin, fx.topics.events);

  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/tmp`] : [];
  if (profile) rmSync(`${profileDir}/tmp`, { recursive: true, force: true });
  worker = new WorkerProcess('bench-worker-1', fx.workerEnv({ LIVESCOPE_LOG_LEVEL: 'warn', LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS: String(CONTROL_EVENT_AGE_MS), LIVESCOPE_SESSION_TIMEOUT_MS: '60000', LIVESCOPE_PARTITIONS_CONCURRENTLY: String(CONCURRENCY), LIVESCOPE_FETCH_MAX_BYTES: String(FETCH_MAX_BYTES), LIVESCOPE_MAX_BATCH_MESSAGES: String(MAX_BATCH) }), nodeArgs).start();
  const started = performance.now();
  progress('worker started; applying the provisioning');
  const provisionedAt = await waitCommitted(store, fx.topics.events, endsA, { timeoutMs: 600_000, isAlive: worker.deadReason });
  const provisioningSeconds = (provisionedAt - started) / 1000;

  // Hold the (joined, idle) worker while the traffic is loaded, so its measurement starts warm.
  worker.pause();
  progress(`worker paused; loading ${TRAFFIC.toLocaleString()} traffic events`);
  const loaded = await loadEvents(fx, trafficSlice(SEED, fleet, trafficAt, TRAFFIC), { onProgress: (n) => n % 100_000 === 0 && progress(`  ${n.toLocaleString()} loaded`) });
  const endsB = await topicEnds(fx.admin, fx.topics.events);
  const traffic = sumOffsets(endsB) - sumOffsets(endsA);
  if (traffic !== loaded) throw new Error(`loaded ${loaded} but the topic grew by ${traffic}`);

  progress('worker resumed; measuring until PostgreSQL holds every end offset');
  const samples: [number, number][] = [];
  const t0 = performance.now();
  worker.resume();
  const t1 = await waitCommitted(store, fx.topics.events, endsB, { timeoutMs: 900_000, pollMs: 25, onSample: (c, at) => samples.push([c, at]), isAlive: worker.deadReason });
  const workerSeconds = (t1 - t0) / 1000;
  const workerRate = traffic / workerSeconds;
  // Steady state: from the first commit seen to the end (excludes the first batch's fetch).
  const firstMove = samples.find(([c]) => c > sumOffsets(endsA));
  const steadyRate = firstMove && t1 > firstMove[1] ? (sumOffsets(endsB) - firstMove[0]) / ((t1 - firstMove[1]) / 1000) : workerRate;

  const spec = {
    brokers: fx.workerEnv().LIVESCOPE_KAFKA_BROKERS!.split(','),
    topic: fx.topics.events,
    fetch: workerFetchSettings(FETCH_MAX_BYTES, CONCURRENCY),
    from: Object.fromEntries([...endsA].map(([p, o]) => [String(p), o.toString()])),
    to: Object.fromEntries([...endsB].map(([p, o]) => [String(p), o.toString()])),
    timeoutMs: 300_000,
  };
  progress('raw kafkajs baseline, run 1');
  const raw1 = await runRawConsumer(spec);
  progress('raw kafkajs baseline, run 2');
  const raw2 = await runRawConsumer(spec);
  const rawRate = (r: typeof raw1): number => r.count / (r.joinToLastMs / 1000);
  const bestRaw = Math.max(rawRate(raw1), rawRate(raw2));

  // What the worker produced, from the output topics' end offsets.
  const t = topicNames(fx.prefix);
  const outputs: Record<string, number> = {};
  for (const [k, topic] of [['scope changes', t.scopeChanges], ['snapshots', t.scopeSnapshots], ['revocations', t.revocations], ['drift alerts', t.driftAlerts], ['dead letters', t.deadLetters]] as const) outputs[k] = sumOffsets(await topicEnds(fx.admin, topic));
  const { rows: st } = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM identity_state', [], 'count states');
  const committed = sumOffsets(await committedOffsets(store, fx.topics.events));

  await worker.stop();
  let profileSummary = '';
  if (profile) {
    mkdirSync(profileDir, { recursive: true });
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (1 is the signing thread).
    const files = readdirSync(`${profileDir}/tmp`).filter((f) => f.endsWith('.cpuprofile'));
    const file = files.find((f) => f.split('.')[4] === '0') ?? files[0];
    if (file) {
      const dest = `${profileDir}/worker-throughput${args.smoke ? '-smoke' : ''}.cpuprofile`;
      renameSync(`${profileDir}/tmp/${file}`, dest);
      rmSync(`${profileDir}/tmp`, { recursive: true, force: true });
      profileSummary = summarizeProfile(dest, 30);
      process.stdout.write(`\nCPU profile of the worker (whole process life: start, provisioning, traffic): ${dest}\n${profileSummary}\n`);
    }
  }

  const ratio = workerRate / bestRaw;
  const rows: Row[] = [
    { run: 'raw kafkajs eachBatch (no decoding), run 1', events: raw1.count, seconds: raw1.joinToLastMs / 1000, 'events/s': rawRate(raw1), 'ratio to raw': rawRate(raw1) / bestRaw },
    { run: 'raw kafkajs eachBatch (no decoding), run 2', events: raw2.count, seconds: raw2.joinToLastMs / 1000, 'events/s': rawRate(raw2), 'ratio to raw': rawRate(raw2) / bestRaw },
    { run: 'scope-worker process: decode+validate+apply+recompute+sign+produce+commit', events: traffic, seconds: workerSeconds, 'events/s': workerRate, 'ratio to raw': ratio },
    { run: 'scope-worker, steady state (first commit → last)', events: sumOffsets(endsB) - (firstMove?.[0] ?? sumOffsets(endsA)), seconds: firstMove ? (t1 - firstMove[1]) / 1000 : workerSeconds, 'events/s': steadyRate, 'ratio to raw': steadyRate / bestRaw },
    { run: 'scope-worker, provisioning (start, join, load, policies + create/grant events)', events: provisioning, seconds: provisioningSeconds, 'events/s': provisioning / provisioningSeconds, 'ratio to raw': Number.NaN },
  ];
  const setup =
    `${FLEET.toLocaleString()} identities (simulator seed ${SEED}), example Cedar policies published first; ${traffic.toLocaleString()} traffic events (simulator mix: 85% no-op telemetry, 12% sessions, 3% policy inputs) on ${PARTITIONS} partitions. ` +
    `Loaded by an idempotent acks=all kafkajs producer in requests of ${LOAD_BATCH} messages (one uncompressed record batch per partition per request, ~${Math.round(LOAD_BATCH / PARTITIONS)} records each); message timestamp = event time. ` +
    `Fetch settings for both sides: maxBytes ${FETCH_MAX_BYTES / 2 ** 20} MiB, maxBytesPerPartition 4 MiB, maxWaitTimeInMs 100, minBytes 1, partitionsConsumedConcurrently ${CONCURRENCY}, eachBatch. ` +
    `Worker: one process from dist/main.js, LIVESCOPE_MAX_BATCH_MESSAGES ${MAX_BATCH}, LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS ${CONTROL_EVENT_AGE_MS} (the recorded control events are signed by the fixture's trusted producer key), paused (SIGSTOP) while the traffic loads, timed from SIGCONT to PostgreSQL holding every end offset (polled every 25 ms). ` +
    `Raw: its own process, a fresh group seeked to the same range, timed from the group join to the last message; best of 2 runs is the baseline. ` +
    `Outputs: ${Object.entries(outputs).map(([k, v]) => `${v.toLocaleString()} ${k}`).join(', ')}; ${Number(st[0]?.n ?? 0).toLocaleString()} identity rows; committed offsets ${committed.toLocaleString()}.`;
  publish(
    {
      name: 'worker-throughput: scope-worker vs raw kafkajs consume',
      command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- worker-throughput',
      setup,
      rows,
      verdicts: [
        `worker ${fmtRate(workerRate)} vs raw ${fmtRate(bestRaw)}: ${ratio.toFixed(2)}× raw; target ≥ 0.3× (issue 15) — ${ratio >= 0.3 ? 'met' : 'NOT met (see docs/performance.md)'}`,
        `dead letters: ${outputs['dead letters']} (expected 0)`,
      ],
    },
    args,
  );
  if (outputs['dead letters'] !== 0) throw new Error('the worker dead-lettered benchmark input');
  // The traffic's sessions and approvals change scopes: no change at all means nothing was really applied.
  if (outputs['scope changes'] === 0) throw new Error('the worker produced no scope change from the traffic: the benchmark measured nothing');
} catch (e) {
  dumpWorkerLog(worker);
  throw e;
} finally {
  await worker?.stop();
  await fx.close();
}
