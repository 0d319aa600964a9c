/**
 * Scale-out: one, two and three scope-worker processes in one consumer group, on the same topic
 * and the same data in one run. Each setup has its own consumer group and PostgreSQL schema. Each
 * first applies the provisioning (partitions assigned and split), is held (SIGSTOP) while the
 * traffic is loaded, and is then timed from SIGCONT until PostgreSQL holds every end offset — one
 * setup after the other (the others stay stopped meanwhile).
 * Correctness: every setup must hold the same state for every identity, the same offsets and the
 * same audit rows as the 1-worker setup, and must have produced the same scope changes (identity,
 * version and content; the setups write to one changes topic one after the other, so each setup's
 * changes are the offset ranges it produced into).
 *
 *   npm run bench -- scale-out [--smoke] [--workers=1,2,3]
 */
import { fleetMembers, fleetProvisioning, policiesEvent, readPolicyDir, trafficSlice } from '@livescope/simulator';
import { Store } from '@livescope/store';
import { testEnv, WorkerProcess } from '@livescope/testkit';
import { createHash } from 'node:crypto';
import { ensureBuilt, ensureKafkaVersionEnv, fmtRate, loadEvents, openPipeline, partitionOwners, readRange, repoRoot, sumOffsets, topicEnds, waitCommitted } from '../lib/pipeline.js';
import { parseBenchArgs, progress, publish, type Row } from '../lib/report.js';

const args = parseBenchArgs();
const SEED = 9001;
// The traffic's signed control events carry event times up to TRAFFIC ms + 2 min before the load (the broker
// stamps append time): the workers' replay window is widened to cover them.
const CONTROL_EVENT_AGE_MS = 3_600_000;
const PARTITIONS = 6;
const FLEET = args.smoke ? 500 : 10_000;
const TRAFFIC = args.smoke ? 20_000 : 300_000;
const WORKER_COUNTS = (args.argv.find((a) => a.startsWith('--workers='))?.slice('--workers='.length) ?? '1,2,3').split(',').map(Number);
if (WORKER_COUNTS[0] !== 1 || WORKER_COUNTS.some((n) => !Number.isInteger(n) || n < 1 || n > 6)) throw new Error('--workers= takes worker counts from 1 to 6, the first being 1 (the baseline), e.g. --workers=1,3');

type Offsets = Map<number, bigint>;

interface Setup {
  readonly name: string;
  readonly schema: string;
  readonly store: Store;
  readonly workers: WorkerProcess[];
  /** Ranges of the changes topic this setup produced into: provisioning, then traffic. */
  readonly changeRanges: [Offsets, Offsets][];
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

  for (const count of WORKER_COUNTS) {
    const name = count === 1 ? '1 worker' : `${count} workers`;
    const changesBefore = await topicEnds(fx.admin, fx.topics.scopeChanges);
    const schema = `${fx.schema}_${count}w`;
    const store = await Store.open({ connectionString: testEnv.pgUrl, schema });
    const env = fx.workerEnv({ LIVESCOPE_LOG_LEVEL: 'warn', LIVESCOPE_MAX_CONTROL_EVENT_AGE_MS: String(CONTROL_EVENT_AGE_MS), LIVESCOPE_PG_SCHEMA: schema, LIVESCOPE_GROUP_ID: `${fx.groupId}-${count}w`, LIVESCOPE_SESSION_TIMEOUT_MS: '300000' });
    const workers = Array.from({ length: count }, (_, i) => new WorkerProcess(`bench-scale-${count}w-${i}`, env).start());
    const setup: Setup = { name, schema, store, workers, changeRanges: [] };
    setups.push(setup);
    progress(`${name}: applying the provisioning`);
    await waitCommitted(store, fx.topics.events, endsA, { timeoutMs: 600_000, isAlive: () => workers.map((w) => w.deadReason()).find(Boolean) });
    // Outputs are produced before their commit: once PostgreSQL holds the end, the changes are in the topic.
    setup.changeRanges.push([changesBefore, await topicEnds(fx.admin, fx.topics.scopeChanges)]);
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
    const changesBefore = await topicEnds(fx.admin, fx.topics.scopeChanges);
    const t0 = performance.now();
    for (const w of s.workers) w.resume();
    const t1 = await waitCommitted(s.store, fx.topics.events, endsB, { timeoutMs: 900_000, pollMs: 25, isAlive: () => s.workers.map((w) => w.deadReason()).find(Boolean) });
    measured.push({ setup: s, seconds: (t1 - t0) / 1000, owners: await partitionOwners(s.store, fx.topics.events) });
    for (const w of s.workers) await w.stop();
    s.changeRanges.push([changesBefore, await topicEnds(fx.admin, fx.topics.scopeChanges)]);
  }

  // Correctness: every setup against the 1-worker one — states, offsets, audit rows and scope changes.
  // A state's pending-snapshot instant (`sd`, written by the state encoder as `,"sd":<epoch ms>`) follows
  // its worker's timer clock, not the input: left out (as text: states may hold \u0000, which jsonb refuses).
  const [a] = setups as [Setup];
  const audit = async (schema: string): Promise<string> => (await a.store.query<{ k: string }>(`SELECT string_agg(kind || ':' || n, ',' ORDER BY kind) AS k FROM (SELECT kind, count(*) AS n FROM ${schema}.audit_log GROUP BY kind) t`, [], 'audit')).rows[0]?.k ?? '';
  const auditA = await audit(a.schema);
  const changesA = await changesOf(a);
  const checks: { name: string; total: string; missing: string; different: string; offsets: string; audit: string; changes: string; identical: boolean }[] = [];
  for (const b of setups.slice(1)) {
    const { rows: diff } = await a.store.query<{ missing: string; different: string; total: string }>(
      `SELECT count(*) FILTER (WHERE x.identity_id IS NULL OR y.identity_id IS NULL)::text AS missing, count(*) FILTER (WHERE regexp_replace(y.state, ',"sd":[0-9]+', '') IS DISTINCT FROM regexp_replace(x.state, ',"sd":[0-9]+', ''))::text AS different, count(*)::text AS total
         FROM ${a.schema}.identity_state x FULL JOIN ${b.schema}.identity_state y USING (identity_id)`,
      [],
      'compare states',
    );
    const { rows: offs } = await a.store.query<{ different: string }>(`SELECT count(*)::text AS different FROM ${a.schema}.partition_state x FULL JOIN ${b.schema}.partition_state y USING (topic, partition) WHERE x.next_offset IS DISTINCT FROM y.next_offset`, [], 'compare offsets');
    const auditB = await audit(b.schema);
    const changesB = await changesOf(b);
    const d = diff[0]!;
    const changes = compareChanges(changesA, changesB);
    checks.push({
      name: b.name,
      total: d.total,
      missing: d.missing,
      different: d.different,
      offsets: offs[0]!.different === '0' ? 'equal' : 'DIFFERENT',
      audit: auditA === auditB ? 'equal' : 'DIFFERENT',
      changes,
      identical: d.missing === '0' && d.different === '0' && offs[0]!.different === '0' && auditA === auditB && changes.startsWith('equal'),
    });
  }
  const identical = checks.every((c) => c.identical);

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
  const splits = measured.slice(1).map((m) => {
    const owners = [...m.owners.values()];
    const counts = [...new Set(owners)].map((o) => owners.filter((x) => x === o).length);
    const n = m.setup.workers.length;
    const even = counts.length === n && Math.max(...counts) - Math.min(...counts) <= 1;
    return `${m.setup.name}: partitions split ${counts.join('/')} — ${even ? 'even' : 'NOT even'}; ${fmtRate(traffic / m.seconds)} = ${(traffic / m.seconds / base).toFixed(2)}× 1 worker (${fmtRate(base)})`;
  });
  publish(
    {
      name: `scale-out: ${WORKER_COUNTS.join(', ')} worker processes in one consumer group`,
      command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- scale-out',
      setup:
        `${FLEET.toLocaleString()} identities (seed ${SEED}), example Cedar policies, ${traffic.toLocaleString()} traffic events (simulator mix) on ${PARTITIONS} partitions, loaded as in worker-throughput. ` +
        `Each setup: its own consumer group and PostgreSQL schema, worker processes from dist/main.js with default settings (session timeout 300 s so a held worker keeps its partitions). ` +
        `Timed from SIGCONT to PostgreSQL holding every end offset; the setups run one after the other on this 2-core machine that also runs the broker and PostgreSQL (the gain is bounded by the cores, not by the design). ` +
        `Correctness against 1 worker: ${checks.map((c) => `${c.name}: ${c.total} identities compared, ${c.missing} missing, ${c.different} with a different state; offsets ${c.offsets}; audit rows ${c.audit}; scope changes ${c.changes}`).join(' — ')} (audit ${auditA}).${args.smoke ? ' SMOKE sizes.' : ''}`,
      rows,
      verdicts: [...splits, `correctness: ${identical ? `identical states, offsets, audit rows and scope changes in every setup (${changesA.size.toLocaleString()} changes)` : 'the setups DIFFER (see setup)'}`],
    },
    args,
  );
  if (!identical) throw new Error(`the setups ended differently: ${JSON.stringify(checks)}`);
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

/**
 * The scope changes a setup produced, as identity/version → digest of the change (the content,
 * which is deterministic for the same input). A change produced twice (a batch replayed after a
 * rebalance) is kept once; two different contents for one identity version is a failure.
 */
async function changesOf(setup: Setup): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [from, to] of setup.changeRanges) {
    for (const m of await readRange(fx, fx.topics.scopeChanges, from, to)) {
      // Wire format: magic byte and 4-byte schema id, then the JSON document.
      const change = JSON.parse(m.value!.subarray(5).toString('utf8')) as { kind: string; identityId: string; version: number };
      const key = `${change.kind}:${change.identityId}@${change.version}`;
      const digest = createHash('sha256').update(m.value!.subarray(5)).digest('hex');
      const seen = out.get(key);
      if (seen !== undefined && seen !== digest) throw new Error(`${setup.name}: two different changes for ${key}`);
      out.set(key, digest);
    }
  }
  return out;
}

function compareChanges(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string {
  let missing = 0;
  let different = 0;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined) missing++;
    else if (w !== v) different++;
  }
  const extra = [...b.keys()].filter((k) => !a.has(k)).length;
  return missing + different + extra === 0 ? `equal (${a.size.toLocaleString()})` : `DIFFERENT (${missing} missing, ${extra} extra, ${different} different of ${a.size})`;
}
