/**
 * End-to-end latency: an input event produced → the enforcer SDK has applied the resulting scope
 * command, at a steady 1,000 and 5,000 events/s of the simulator's realistic mix, against raw
 * kafkajs produce → consume of the same bytes at the same rate on the same broker, in one run.
 * One scope-worker process (dist/main.js, default settings) over 10,000 identities with the
 * example Cedar policies; the producer, the enforcer and the raw consumer live in this process
 * (one clock). Latency is measured for every event that changed a scope (sessions, policy
 * inputs: ~15% of the mix); the raw baseline measures every message.
 *
 *   npm run bench -- latency [--smoke]
 */
import { encodeWireJson, LivescopeEvent } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { fleetMembers, fleetProvisioning, policiesEvent, readPolicyDir, trafficSlice } from '@livescope/simulator';
import { createProducer, createTopicsReady, parsePublicKey, ProducerSigner } from '@livescope/transport';
import type { Message, Producer } from 'kafkajs';
import { dumpWorkerLog, loadEvents, openWorkerBench, repoRoot, topicEnds, waitCommitted } from '../lib/pipeline.js';
import { signedInProduction } from '../lib/producers.js';
import { parseBenchArgs, percentile, progress, publish, type Row } from '../lib/report.js';
import { WorkerProcess } from '@livescope/testkit';

const args = parseBenchArgs();
const SEED = 31337;
const PARTITIONS = 6;
const FLEET = args.smoke ? 500 : 10_000;
const RATES = args.smoke ? [1000] : [1000, 5000];
const SECONDS = args.smoke ? 3 : 20;
const WARMUP_SECONDS = args.smoke ? 1 : 3;
const TICK_MS = 5;
const RAW_MAX_WAIT_MS = 50; // the enforcer's consumer setting

const { fx, store } = await openWorkerBench(PARTITIONS);
const rawTopic = `${fx.prefix}bench.latency.raw`;
let worker: WorkerProcess | undefined;
let enforcer: Enforcer | undefined;
const now = (): number => performance.now();

/**
 * Sends `messages(k)` every TICK_MS for `seconds` on a fixed schedule (late ticks catch up),
 * recording the send instant of each message id.
 */
async function pace(producer: Producer, topic: string, rate: number, seconds: number, next: () => { id: string; msg: Message }, sentAt: Map<string, number>): Promise<number> {
  const perTick = (rate * TICK_MS) / 1000;
  const start = now();
  let due = 0;
  let sent = 0;
  const inflight = new Set<Promise<unknown>>();
  while (now() - start < seconds * 1000) {
    const elapsed = now() - start;
    due = Math.floor((elapsed / TICK_MS + 1) * perTick);
    const batch: Message[] = [];
    const t = now();
    while (sent < due) {
      const { id, msg } = next();
      sentAt.set(id, t);
      batch.push(msg);
      sent++;
    }
    if (batch.length) {
      const p = producer.send({ topic, acks: -1, messages: batch }).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    const wait = start + (Math.floor(elapsed / TICK_MS) + 1) * TICK_MS - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inflight);
  return sent;
}

interface Measured {
  readonly rate: number;
  readonly side: string;
  readonly lat: number[];
  readonly sent: number;
}

try {
  await createTopicsReady(fx.admin, [{ topic: rawTopic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  const t0 = Date.now();
  const fleet = fleetMembers(SEED, FLEET);
  progress(`loading the example policies and ${FLEET.toLocaleString()} identities`);
  await loadEvents(fx, [policiesEvent(readPolicyDir(`${repoRoot}examples/policies`), 'bench', t0 - 60_000), ...fleetProvisioning(fleet, t0 - 59_000)]);
  const endsA = await topicEnds(fx.admin, fx.topics.events);
  worker = new WorkerProcess('bench-latency-worker', fx.workerEnv({ LIVESCOPE_LOG_LEVEL: 'warn' })).start();
  await waitCommitted(store, fx.topics.events, endsA, { timeoutMs: 600_000, isAlive: worker.deadReason });

  progress('worker caught up; starting the enforcer (bootstrap from snapshots)');
  enforcer = new Enforcer({ brokers: fx.workerEnv().LIVESCOPE_KAFKA_BROKERS!.split(','), registryUrl: fx.workerEnv().LIVESCOPE_REGISTRY_URL!, enforcerId: `bench-latency-${fx.id}`, trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)], logger: fx.logger, topicPrefix: fx.prefix, reportDecisions: false });
  await enforcer.start();
  await enforcer.ready;
  const appliedAt = new Map<string, number>();
  const eventOf = new Map<string, string>();
  const apply = enforcer.state.applyScope.bind(enforcer.state);
  enforcer.state.applyScope = (c) => {
    const outcome = apply(c);
    const key = `${c.identityId}@${c.version}`;
    if (outcome === 'applied') appliedAt.set(key, now());
    if (c.kind === 'scope.change' && c.cause.eventId !== undefined) eventOf.set(key, c.cause.eventId);
    return outcome;
  };

  // Raw baseline consumer: same broker, same rate, same bytes, the enforcer's fetch wait.
  const receivedAt = new Map<string, number>();
  const raw = fx.kafka.consumer({ groupId: `bench-latency-raw-${fx.id}`, maxWaitTimeInMs: RAW_MAX_WAIT_MS });
  await raw.connect();
  await raw.subscribe({ topic: rawTopic, fromBeginning: true });
  await raw.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: ({ batch }) => {
      const t = now();
      for (const m of batch.messages) receivedAt.set(m.key!.toString(), t);
      return Promise.resolve();
    },
  });
  const producer = createProducer(fx.kafka);
  await producer.connect();

  const signer = ProducerSigner.fromConfig(fx.producerKeys.kid, fx.producerKeys.privateKey);
  const results: Measured[] = [];
  let offset = 0;
  const stream = trafficSlice(SEED, fleet, 0, 10_000_000);
  for (const rate of RATES) {
    for (const side of ['raw kafkajs produce → consume', 'pipeline: event → enforcer applied'] as const) {
      progress(`${rate.toLocaleString()} events/s, ${side}: ${SECONDS} s (+${WARMUP_SECONDS} s warm-up)`);
      const sentAt = new Map<string, number>();
      const isRaw = side.startsWith('raw');
      const next = (): { id: string; msg: Message } => {
        const input = stream.next().value as LivescopeEvent;
        const ts = Date.now();
        const e = LivescopeEvent.parse({ ...input, id: `${rate}/${offset++}`, time: new Date(ts).toISOString() });
        const value = encodeWireJson(fx.publisher.schemaId, e);
        if (isRaw) return { id: e.id, msg: { key: e.id, value } };
        // Sessions and approvals come from the session issuer, signed; telemetry from sidecars, unsigned.
        const key = (e as { subject: string }).subject;
        return { id: e.id, msg: { key, value, timestamp: String(ts), ...(signedInProduction(e.type) ? { headers: signer.headers(fx.topics.events, key, value) } : {}) } };
      };
      const begin = now();
      const sent = await pace(producer, isRaw ? rawTopic : fx.topics.events, rate, SECONDS + WARMUP_SECONDS, next, sentAt);
      // Let the last ones arrive (bounded).
      await new Promise((r) => setTimeout(r, 1500));
      const lat: number[] = [];
      const from = begin + WARMUP_SECONDS * 1000;
      if (isRaw) {
        for (const [id, t] of sentAt) if (t >= from) lat.push((receivedAt.get(id) ?? Number.POSITIVE_INFINITY) - t);
      } else {
        for (const [key, id] of eventOf) {
          const t = sentAt.get(id);
          const a = appliedAt.get(key);
          if (t !== undefined && a !== undefined && t >= from) lat.push(a - t);
        }
      }
      results.push({ rate, side, lat: lat.sort((a, b) => a - b), sent });
    }
  }
  await raw.disconnect();
  await producer.disconnect();

  const rows: Row[] = [];
  const verdicts: string[] = [];
  for (const rate of RATES) {
    const [r, p] = [results.find((x) => x.rate === rate && x.side.startsWith('raw'))!, results.find((x) => x.rate === rate && !x.side.startsWith('raw'))!];
    for (const m of [r, p]) rows.push({ 'events/s': rate, path: m.side, 'events sent': m.sent, measured: m.lat.length, 'p50 ms': percentile(m.lat, 50), 'p99 ms': percentile(m.lat, 99), 'p99.9 ms': percentile(m.lat, 99.9), 'p99 ratio to raw': percentile(m.lat, 99) / percentile(r.lat, 99) });
    const p99 = percentile(p.lat, 99);
    const ratio = p99 / percentile(r.lat, 99);
    verdicts.push(`${rate.toLocaleString()} events/s: pipeline p99 ${p99.toFixed(1)} ms = ${ratio.toFixed(1)}× raw p99 (${percentile(r.lat, 99).toFixed(1)} ms); targets ≤ 2× raw — ${ratio <= 2 ? 'met' : 'NOT met (see docs/performance.md)'}, ≤ 50 ms — ${p99 <= 50 ? 'met' : 'NOT met'}`);
  }
  publish(
    {
      name: 'latency: event produced → enforcer applied, vs raw produce → consume',
      command: process.env.LIVESCOPE_BENCH_COMMAND ?? 'npm run bench -- latency',
      setup:
        `${FLEET.toLocaleString()} identities (seed ${SEED}), example Cedar policies, ${PARTITIONS} partitions; one scope-worker process (dist/main.js, default settings: fetch maxWaitTimeInMs 100, partitionsConsumedConcurrently 3, LIVESCOPE_MAX_BATCH_MESSAGES 5000, acks=all outputs, one PostgreSQL commit per batch). ` +
        `Producer: idempotent acks=all kafkajs in this process, a request every ${TICK_MS} ms (rate × ${TICK_MS} ms events each, on a fixed schedule), simulator traffic re-stamped with the send time. ` +
        `Pipeline latency: send call → the in-process enforcer SDK (default consumer, maxWaitTimeInMs 50) applied the change or snapshot of the version the event caused, for every scope-changing event. ` +
        `Raw: the same producer and bytes to a plain topic with ${PARTITIONS} partitions, a kafkajs eachBatch consumer (maxWaitTimeInMs ${RAW_MAX_WAIT_MS}) in this process, send call → batch received. ${SECONDS} s per rate and path after ${WARMUP_SECONDS} s of warm-up.${args.smoke ? ' SMOKE sizes.' : ''}`,
      rows,
      verdicts,
    },
    args,
  );
  // No measured pipeline latency means the traffic changed no scope: the run measured nothing.
  const empty = results.filter((m) => m.lat.length === 0);
  if (empty.length > 0) throw new Error(`no latency measured for ${empty.map((m) => `${m.rate}/s ${m.side}`).join(', ')}`);
} catch (e) {
  dumpWorkerLog(worker);
  throw e;
} finally {
  await enforcer?.stop().catch(() => undefined);
  await worker?.stop();
  await fx.close();
}
