import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LivescopeEventInput, Revocation, ScopeChange } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { fleetMembers, provisioningEvents, Random, traffic } from '@livescope/simulator';
import { PipelineFixture, WorkerProcess, waitFor, type TopicTail } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { auditCounts, caughtUp, diffMaps, enforcerView, statesOf, timelessCommand } from './support/pipelineViews.js';


/**
 * Issue 5's chaos test, bounded in time and count, loopback only. The same seeded events go
 * through (a) one worker with no faults and (b) two workers under ≥10 SIGKILLs at random instants,
 * a Kafka broker restart, a PostgreSQL restart and a rebalance (a worker added, then removed).
 * Afterwards the states of record, the audit log and an enforcer's view must be equal, and every
 * command of the clean run must have been produced, identically, by the chaos run — identical but
 * for the instants the broker stamped: the events topic uses LogAppendTime, so the two runs' logs
 * carry different append times (within one log, a replay after a crash sees the same ones).
 */
const SEED = Number(process.env.LIVESCOPE_CHAOS_SEED ?? 20261128);
const WAVES = 14;
const WAVE_SIZE = Number(process.env.LIVESCOPE_CHAOS_WAVE ?? 1000);
const FLEET = 300;
const ctl = fileURLToPath(new URL('../infra/ctl.sh', import.meta.url));
const rnd = new Random(SEED);
const T0 = Date.now();
const progress = (m: string): void => void process.stderr.write(`[chaos ${((Date.now() - T0) / 1000).toFixed(1)}s] ${m}\n`);

/** The input, split into waves with fixed message timestamps so both runs see identical logs. */
function waves(): { events: LivescopeEventInput[]; timestampMs: number }[] {
  const members = fleetMembers(SEED, FLEET);
  const out: { events: LivescopeEventInput[]; timestampMs: number }[] = [{ events: members.flatMap((m) => provisioningEvents(m, T0, 'chaos')), timestampMs: T0 }];
  const gen = traffic(SEED, members, T0 + 1000);
  for (let w = 1; w <= WAVES; w++) {
    const events: LivescopeEventInput[] = [];
    for (let i = 0; i < WAVE_SIZE; i++) events.push(gen.next().value);
    // Some revocations too: replayed tokens (each revokes the token, and its session when known).
    for (let k = 0; k < 10; k++) {
      const m = members[rnd.int(members.length)]!;
      events.push({ specversion: '1.0', id: `replay-${w}-${k}`, type: 'telemetry.token-replay-detected', source: 'chaos', time: new Date(T0 + w * 1000).toISOString(), subject: m.id, data: { tokenId: `tok-${w}-${k}` } });
    }
    if (w % 4 === 0) {
      events.push({ specversion: '1.0', id: `order-${w}`, type: 'order.issued', source: 'chaos', time: new Date(T0 + w * 1000).toISOString(), data: { orderId: `o-${w}`, kind: 'read-only', target: { selector: { namespace: 'payments' } }, reason: 'chaos drill', actor: 'responder' } });
    }
    if (w % 4 === 2 && w > 2) events.push({ specversion: '1.0', id: `lift-${w}`, type: 'order.lifted', source: 'chaos', time: new Date(T0 + w * 1000).toISOString(), data: { orderId: `o-${w - 2}`, actor: 'approver' } });
    out.push({ events, timestampMs: T0 + w * 1000 });
  }
  return out;
}

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

async function publishWave(fx: PipelineFixture, w: { events: LivescopeEventInput[]; timestampMs: number }): Promise<void> {
  for (let i = 0; i < w.events.length; i += 500) {
    // The broker may be restarting: retry (bounded) — re-publishing identical events is safe (same ids).
    for (let attempt = 1; ; attempt++) {
      try {
        await fx.publish(w.events.slice(i, i + 500), w.timestampMs);
        break;
      } catch (e) {
        if (attempt >= 30) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
}

async function enforcerFor(fx: PipelineFixture, name: string): Promise<Enforcer> {
  const e = new Enforcer({ brokers: ['127.0.0.1:9092'], registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7', enforcerId: name, trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)], topicPrefix: fx.prefix, logger: fx.logger, reportDecisions: false });
  await e.start();
  await e.ready;
  cleanup.push(() => e.stop());
  return e;
}

function commands(tail: TopicTail, fx: PipelineFixture): { changes: Map<string, string[]>; revocations: Map<string, string[]> } {
  const changes = new Map<string, string[]>();
  for (const m of tail.of<ScopeChange>(fx.topics.scopeChanges)) {
    const k = `${m.value.identityId}@${m.value.version}`;
    changes.set(k, [...(changes.get(k) ?? []), timelessCommand(m.raw.subarray(5).toString())]);
  }
  const revocations = new Map<string, string[]>();
  for (const m of tail.of<Revocation>(fx.topics.revocations)) revocations.set(m.value.revocationId, [...(revocations.get(m.value.revocationId) ?? []), timelessCommand(m.raw.subarray(5).toString())]);
  return { changes, revocations };
}

describe('chaos: kills, broker and database restarts, rebalance', () => {
  it('ends in the same states and enforcer view as a clean run, with zero lost commands and zero double-applied events', async () => {
    const input = waves();
    const total = input.reduce((n, w) => n + w.events.length, 0);
    const env = { LIVESCOPE_SESSION_TIMEOUT_MS: '6000', LIVESCOPE_HEARTBEAT_INTERVAL_MS: '500' };

    // (a) the clean run
    const clean = await new PipelineFixture(6).open();
    cleanup.push(() => clean.close());
    const cleanTail = await clean.tail(['scopeChanges', 'revocations']);
    const cleanWorker = new WorkerProcess('clean-1', clean.workerEnv(env)).start();
    cleanup.push(() => cleanWorker.stop());
    for (const w of input) await publishWave(clean, w);
    progress(`clean run: ${total} events published`);
    const cleanStore = await clean.store();
    await waitFor('the clean run to finish', () => caughtUp(clean.admin, cleanStore, clean.topics.events), 180_000, 250).catch((e: unknown) => {
      process.stderr.write(`clean worker log:\n${cleanWorker.logs.slice(-30).join('\n')}\n`);
      throw e;
    });

    progress('clean run finished');
    // (b) the chaos run
    const fx = await new PipelineFixture(6).open();
    cleanup.push(() => fx.close());
    const tail = await fx.tail(['scopeChanges', 'revocations']);
    const workers: WorkerProcess[] = [];
    let n = 0;
    const spawnWorker = (): WorkerProcess => {
      const w = new WorkerProcess(`chaos-${++n}`, fx.workerEnv(env)).start();
      workers.push(w);
      cleanup.push(() => w.stop());
      return w;
    };
    spawnWorker();
    spawnWorker();
    let kills = 0;
    const faults: string[] = [];
    const reported = new Set<WorkerProcess>();
    for (let i = 0; i < input.length; i++) {
      const publishing = publishWave(fx, input[i]!);
      if (i >= 1) {
        // SIGKILL a random live worker at a random instant while the wave is being processed, then replace it.
        await new Promise((r) => setTimeout(r, 50 + rnd.int(600)));
        for (const w of workers.filter((x) => x.crashed !== undefined && !reported.has(x))) {
          reported.add(w);
          progress(`worker ${w.name} CRASHED: ${w.crashed}`);
        }
        // Keep two workers running whatever happened (a crash is reported and fails the test below).
        while (workers.filter((w) => w.running).length < 2) spawnWorker();
        const live = workers.filter((w) => w.running);
        const victim = live[rnd.int(live.length)]!;
        await victim.kill('SIGKILL');
        kills++;
        spawnWorker();
      }
      await publishing;
      for (const w of workers.filter((x) => x.crashed !== undefined && !reported.has(x))) {
        reported.add(w);
        progress(`worker ${w.name} CRASHED: ${w.crashed}`);
      }
      progress(`wave ${i}/${input.length - 1} published; ${kills} kills; live workers: ${workers.filter((x) => x.running).map((x) => x.name).join(',')}`);
      if (i === 4) {
        faults.push('kafka restart');
        execFileSync('bash', [ctl, 'kafka-restart', '--quiet'], { stdio: 'inherit' });
      }
      if (i === 8) {
        faults.push('postgresql restart');
        execFileSync('bash', [ctl, 'pg-restart', '--quiet'], { stdio: 'inherit' });
      }
      if (i === 10) {
        faults.push('rebalance: worker added');
        const extra = spawnWorker();
        await new Promise((r) => setTimeout(r, 4000));
        faults.push('rebalance: worker removed');
        await extra.stop();
      }
    }
    const store = await fx.store();
    progress('all waves published; waiting for the chaos run to finish');
    await waitFor('the chaos run to finish', () => caughtUp(fx.admin, store, fx.topics.events), 240_000, 250);

    // Compare the states of record and the audit log.
    const [cleanStates, chaosStates] = [await statesOf(cleanStore), await statesOf(store)];
    const stateDiff = diffMaps(cleanStates, chaosStates);
    const auditDiff = diffMaps(new Map([...(await auditCounts(cleanStore))].map(([k, v]) => [k, String(v)])), new Map([...(await auditCounts(store))].map(([k, v]) => [k, String(v)])));

    // Compare commands: every command of the clean run must be on the chaos topics, identical.
    await waitFor('the chaos commands to be read', () => {
      const c = commands(tail, fx);
      return [...commands(cleanTail, clean).changes.keys()].every((k) => c.changes.has(k)) || undefined;
    }, 60_000, 250).catch(() => undefined);
    const a = commands(cleanTail, clean);
    const b = commands(tail, fx);
    let lost = 0;
    let differing = 0;
    let duplicates = 0;
    for (const [k, [payload]] of [...a.changes, ...a.revocations]) {
      const got = b.changes.get(k) ?? b.revocations.get(k);
      if (!got) lost++;
      else if (got.some((p) => p !== payload)) differing++;
    }
    for (const list of [...b.changes.values(), ...b.revocations.values()]) duplicates += list.length - 1;

    // An enforcer on each pipeline, bootstrapped from the snapshots and following changes.
    const [ea, eb] = [await enforcerFor(clean, `e-clean-${clean.id}`), await enforcerFor(fx, `e-chaos-${fx.id}`)];
    await waitFor('both enforcers to hold every identity', () => ea.state.identities.size >= FLEET && eb.state.identities.size >= FLEET, 60_000, 250);
    const viewDiff = diffMaps(enforcerView(ea), enforcerView(eb));

    const report = [
      `chaos run: ${total} events, ${FLEET} identities, 6 partitions, seed ${SEED}`,
      `faults: ${kills} SIGKILLs of a worker at random instants; ${faults.join('; ')}; ${n} worker processes in all`,
      `commands in the clean run: ${a.changes.size} scope changes, ${a.revocations.size} revocations`,
      `lost commands: ${lost}; commands differing from the clean run: ${differing}; duplicate deliveries (allowed, ignored by enforcers): ${duplicates}`,
      `identity states differing from the clean run: ${stateDiff.length} of ${cleanStates.size}; audit rows differing (double-applied events): ${auditDiff.length}`,
      `enforcer views differing: ${viewDiff.length} of ${ea.state.identities.size}`,
    ];
    process.stdout.write(`\n${report.join('\n')}\n`);
    if (stateDiff.length || auditDiff.length || viewDiff.length) process.stdout.write(`${[...stateDiff, ...auditDiff, ...viewDiff].slice(0, 10).join('\n')}\n`);
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(workers.filter((w) => w.crashed !== undefined).map((w) => `${w.name}: ${w.crashed}`)).toEqual([]);
    expect(lost).toBe(0);
    expect(differing).toBe(0);
    expect(stateDiff).toEqual([]);
    expect(auditDiff).toEqual([]);
    expect(viewDiff).toEqual([]);
  }, 600_000);
});
