/**
 * Scale-out: two scope-worker processes in one consumer group against one, on the same topic and
 * the same data in one run. Each setup has its own consumer group and PostgreSQL schema. Both
 * first apply the provisioning (partitions assigned and split), are held (SIGSTOP) while the
 * traffic is loaded, and are then timed from SIGCONT until PostgreSQL holds every end offset —
 * the 1-worker setup first, then the 2-worker one (the other setup stays stopped meanwhile).
 * Correctness: the two schemas must hold the same state for every identity, the same offsets and
 * the same audit rows (the engine is deterministic).
 *
 *   npm run bench -- scale-out [--smoke]
 */
import { fleetMembers, fleetProvisioning, policiesEvent, readPolicyDir, trafficSlice } from '@livescope/simulator';
import { Store } from '@livescope/store';
import { testEnv, WorkerProcess } from '@livescope/testkit';
import { ensureBuilt, ensureKafkaVersionEnv, fmtRate, loadEvents, openPipeline, partitionOwners, repoRoot, sumOffsets, topicEnds, waitCommitted } from '../lib/pipeline.js';
import { parseBenchArgs, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const SEED = 9001;
// The traffic's signed control events carry event times up to TRAFFIC ms + 2 min before the load (the broker
// stamps append time): the workers' replay window is widened to cover them.
const CONTROL_EVENT_AGE_MS = 3_600_000;
const PARTITIONS = 6;
const FLEET = args.smoke ? 500 : 10_000;
const TRAFFIC = args.smoke ? 20_000 : 300_000;

interface Setup {
  readonly name: string;
  readonly schema: string;
  readonly store: Store;
  readonly workers: WorkerProcess[];
}

ensureKafkaVersionEnv();
progress('building the worker (turbo; cached when current)');
ensureBuilt();
const fx = await openPipeline(PARTITIONS);
const setups: Setup[] = [];
try {
  const now = Date.now();
  const policiesAt = now - TRAFFIC - 120_000;
  const fleet = fleetMembers(SEED, FLEET);
  progress(`loading the example policies and ${FLEET.toLocaleString()} identities`);
  await loadEvents(fx, [policiesEvent(readPolicyDir(`${repoRoot}examples/policies`), 'bench', policiesAt), ...fleetProvisioning(fleet, policiesAt + 1)]);
  const endsA = await topicEnds(fx.admin, fx.topics.events);

  for (const [name, count] of [['1 worker', 1], ['2 workers', 2]] as const) {
    const schema = `${fx.schema}_${count}w`;
    const store = await Store.open({ connectionString: testEnv.pgUrl, schema });
    const env = fx.workerEnv({ LIVESCOPE_LOG_LEVEL: 'warn', LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS: String(CONTROL_EVENT_AGE_MS), LIVESCOPE_PG_SCHEMA: schema, LIVESCOPE_GROUP_ID: `${fx.groupId}-${count}w`, LIVESCOPE_SESSION_TIMEOUT_MS: '300000' });
    const workers = Array.from({ length: count }, (_, i) => new WorkerProcess(`bench-scale-${count}w-${i}`, env).start());
    setups.push({ name, schema, store, workers });
    progress(`${name}: applying the provisioning`);
    await waitCommitted(store, fx.topics.events, endsA, { timeoutMs: 600_000, isAlive: () => workers.map((w) => w.deadReason()).find(Boolean) });
    // Let the group settle (a second member joining causes a rebalance) before holding the workers.
    await new Promise((r) => setTimeout(r, 3000));
    for (const w of workers) w.pause();
  }

  progress(`workers held; loading ${TRAFFIC.toLocaleString()} traffic events`);
  await loadEvents(fx, trafficSlice(SEED, fleet, policiesAt + 60_000, TRAFFIC));
  const endsB = await topicEnds(fx.admin, fx.topics.events);
  const traffic = sumOffsets(endsB) - sumOffsets(endsA);

  const measured: { setup: Setup; seconds: number; owners: Map<number, string> }[] = [];
  for (const s of setups) {
    progress(`${s.name}: resumed; measuring`);
    const t0 = performance.now();
    for (const w of s.workers) w.resume();
    const t1 = await waitCommitted(s.store, fx.topics.events, endsB, { timeoutMs: 900_000, pollMs: 25, isAlive: () => s.workers.map((w) => w.deadReason()).find(Boolean) });
    measured.push({ setup: s, seconds: (t1 - t0) / 1000, owners: await partitionOwners(s.store, fx.topics.events) });
    for (const w of s.workers) await w.stop();
  }

  // Correctness: same states, offsets and audit rows in both schemas.
  const [a, b] = setups as [Setup, Setup];
  const { rows: diff } = await a.store.query<{ missing: string; different: string; total: string }>(
    `SELECT count(*) FILTER (WHERE y.identity_id IS NULL)::text AS missing, count(*) FILTER (WHERE y.state IS DISTINCT FROM x.state)::text AS different, count(*)::text AS total
       FROM ${a.schema}.identity_state x FULL JOIN ${b.schema}.identity_state y USING (identity_id)`,
    [],
    'compare states',
  );
  const { rows: offs } = await a.store.query<{ different: string }>(`SELECT count(*)::text AS different FROM ${a.schema}.partition_state x FULL JOIN ${b.schema}.partition_state y USING (topic, partition) WHERE x.next_offset IS DISTINCT FROM y.next_offset`, [], 'compare offsets');
  const audit = async (schema: string): Promise<string> => (await a.store.query<{ k: string }>(`SELECT string_agg(kind || ':' || n, ',' ORDER BY kind) AS k FROM (SELECT kind, count(*) AS n FROM ${schema}.audit_log GROUP BY kind) t`, [], 'audit')).rows[0]?.k ?? '';
  const [auditA, auditB] = [await audit(a.schema), await audit(b.schema)];
  const d = diff[0]!;
  const identical = d.missing === '0' && d.different === '0' && offs[0]!.different === '0' && auditA === auditB;

  const base = traffic / measured[0]!.seconds;
  const rows: Row[] = measured.map((m) => {
    const perOwner = new Map<string, number[]>();
    for (const [p, o] of m.owners) perOwner.set(o, [...(perOwner.get(o) ?? []), p]);
    return {
      setup: m.setup.name,
      'events/s': traffic / m.seconds,
      seconds: m.seconds,
      'ratio to 1 worker': traffic / m.seconds / base,
      'partitions per worker': [...perOwner.values()].map((ps) => `${ps.length} (${ps.join(',')})`).join(' + '),
    };
  });
  const two = measured[1]!;
  const counts = [...new Set(two.owners.values())].map((o) => [...two.owners.values()].filter((x) => x === o).length);
  const even = counts.length === 2 && Math.abs(counts[0]! - counts[1]!) <= 1;
  publish(
    {
      name: 'scale-out: 2 worker processes in one consumer group vs 1',
      command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- scale-out',
      setup:
        `${FLEET.toLocaleString()} identities (seed ${SEED}), example Cedar policies, ${traffic.toLocaleString()} traffic events (simulator mix) on ${PARTITIONS} partitions, loaded as in worker-throughput. ` +
        `Each setup: its own consumer group and PostgreSQL schema, worker processes from dist/main.js with default settings (session timeout 300 s so a held worker keeps its partitions). ` +
        `Timed from SIGCONT to PostgreSQL holding every end offset; the 1-worker setup runs first, then the 2-worker setup, on this 2-core machine that also runs the broker and PostgreSQL (the gain is bounded by the cores, not by the design). ` +
        `Correctness: ${d.total} identities compared, ${d.missing} missing, ${d.different} with a different state; offsets ${offs[0]!.different === '0' ? 'equal' : 'DIFFERENT'}; audit rows ${auditA === auditB ? 'equal' : 'DIFFERENT'} (${auditB}).${args.smoke ? ' SMOKE sizes.' : ''}`,
      rows,
      verdicts: [
        `partitions split ${counts.join('/')} between the two workers — ${even ? 'even' : 'NOT even'}`,
        `throughput: 2 workers ${fmtRate(traffic / two.seconds)} = ${(traffic / two.seconds / base).toFixed(2)}× 1 worker (${fmtRate(base)})`,
        `correctness: ${identical ? 'identical states, offsets and audit rows in both setups' : 'the setups DIFFER (see setup)'}`,
      ],
    },
    args,
  );
  if (!identical) throw new Error('the 1-worker and 2-worker setups ended in different states');
} catch (e) {
  for (const s of setups) for (const w of s.workers) process.stderr.write(`${w.name} log (last lines):\n${w.logs.slice(-15).join('\n')}\n`);
  throw e;
} finally {
  for (const s of setups) {
    for (const w of s.workers) await w.stop();
    await s.store.query(`DROP SCHEMA IF EXISTS ${s.schema} CASCADE`, [], 'drop bench schema').catch(() => undefined);
    await s.store.close();
  }
  await fx.close();
}
