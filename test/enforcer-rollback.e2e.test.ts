import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broadcastEvent, identityEvent, topicConfigs, topicSpecs, Topics, type DriftAlert, type LivescopeEvent, type ScopeSnapshot } from '@livescope/contracts';
import { Enforcer, type EnforcerOptions } from '@livescope/enforcer';
import { PipelineFixture, testEnv, WorkerProcess, waitFor, type TailedMessage, type TopicTail } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import kafkajs, { type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 14 item 5: rollback-proof commands, over the real broker. An identity is quarantined
 * (version N); someone with write access to the snapshot topic re-publishes a genuine snapshot of
 * it from before the quarantine, original signature headers and all. The running enforcer refuses
 * it (rollback, alerted) and keeps N. Once compaction has removed version N from the snapshot topic
 * (the replay is now the identity's newest snapshot there), a restarted enforcer with its
 * high-water file never takes the old snapshot (it denies the identity, alerted); one without the
 * file but reading the retained changes still ends at N; one with neither takes the replay — the
 * documented limit of an enforcement point that keeps no state across restarts.
 */
const { ConfigResourceTypes } = kafkajs;
const ID = 'sa-rollback';
let fx: PipelineFixture;
let worker: WorkerProcess;
let tail: TopicTail;
let dir: string;
let highWaterFile: string;
const enforcers: Enforcer[] = [];
let oldSnapshot: TailedMessage<ScopeSnapshot>;
let replayOffset: string;
let N = 0;

function enforcer(enforcerId: string, rejected: string[], extra: Partial<EnforcerOptions> = {}): Enforcer {
  const e = new Enforcer({
    brokers: testEnv.brokers,
    registryUrl: testEnv.registryUrl,
    enforcerId,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
    requireSession: false,
    flushIntervalMs: 200,
    onRejected: (reason) => rejected.push(reason),
    ...extra,
  });
  enforcers.push(e);
  return e;
}

const snapshotsOf = (id: string): TailedMessage<ScopeSnapshot>[] => tail.of<ScopeSnapshot>(fx.topics.scopeSnapshots).filter((m) => m.value?.identityId === id);
const alerts = (): DriftAlert[] => tail.of<DriftAlert>(fx.topics.driftAlerts).map((m) => m.value);

/**
 * Reads the snapshot topic from its beginning again and again (one consumer, seeking back after
 * each pass), so a test can wait for the log cleaner to have compacted it.
 */
class SnapshotPasses {
  last: { key: string | undefined; version: number | undefined }[] | undefined;
  private current: { offset: bigint; key: string | undefined; version: number | undefined }[] = [];
  private consumer: Consumer | undefined;

  async start(): Promise<this> {
    const topic = fx.topics.scopeSnapshots;
    const consumer = fx.kafka.consumer({ groupId: `t${fx.id}-passes`, maxWaitTimeInMs: 100 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          // A lower offset than the last one read: the seek back took effect, a new pass starts.
          if (this.current.length > 0 && offset <= this.current[this.current.length - 1]!.offset) this.current = [];
          let version: number | undefined;
          try {
            version = (JSON.parse(m.value!.subarray(5).toString('utf8')) as { version?: number }).version;
          } catch {
            version = undefined;
          }
          this.current.push({ offset, key: m.key?.toString(), version });
          if (offset >= BigInt(batch.highWatermark) - 1n) {
            this.last = this.current.map(({ key, version: v }) => ({ key, version: v }));
            this.current = [];
            consumer.seek({ topic, partition: batch.partition, offset: '0' });
            break;
          }
        }
        return Promise.resolve();
      },
    });
    return this;
  }

  versionsOf(id: string): number[] | undefined {
    return this.last?.filter((m) => m.key === id).map((m) => m.version ?? -1);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

beforeAll(async () => {
  fx = await new PipelineFixture(1).open();
  // Segments roll every 100 ms on this test's snapshot topic, so the log cleaner compacts it within
  // seconds instead of the hour the production setting waits (the rest of its config as provisioned).
  const spec = topicSpecs.find((s) => s.name === Topics.scopeSnapshots)!;
  await fx.admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: fx.topics.scopeSnapshots, configEntries: Object.entries({ ...topicConfigs(spec), 'segment.ms': '100' }).map(([name, value]) => ({ name, value })) }],
  });
  worker = new WorkerProcess('rollback-worker', fx.workerEnv({ LIVESCOPE_HEARTBEAT_INTERVAL_MS: '200' })).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerReports}-value`)).size > 0, 60_000, 200);
  tail = await fx.tail(['scopeSnapshots', 'driftAlerts', 'enforcerReports', 'events']);
  dir = await mkdtemp(join(tmpdir(), 'livescope-rollback-'));
  highWaterFile = join(dir, 'enforcer.high-water');
});

afterAll(async () => {
  for (const e of enforcers) await e.stop().catch(() => undefined);
  await worker?.stop();
  await fx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('rollback-proof commands', () => {
  it('the running enforcer refuses a replayed genuine old snapshot with an alert and keeps version N', async () => {
    const t = Date.now();
    await fx.publish([
      identityEvent('identity.created', ID, { kind: 'workload', name: ID, namespace: 'pay', owner: 'o' }, { id: 'rb-1', time: t }),
      identityEvent('entitlement.granted', ID, { grantId: 'g1', role: 'writer', permissions: [{ action: 'db:write', resource: 'db/pay', access: 'write' }] }, { id: 'rb-2', time: t }),
    ]);
    oldSnapshot = await waitFor('a snapshot with db:write', () => snapshotsOf(ID).find((m) => m.value.permissions.some((p) => p.action === 'db:write')));

    const rejected: string[] = [];
    const a = enforcer(`gw-rb-${fx.id}`, rejected, { highWaterFile, highWaterIntervalMs: 200 });
    await a.start();
    await a.ready;
    await waitFor('db:write to be allowed', () => a.authorize(ID, undefined, 'db:write', 'db/pay').allowed);

    await fx.publish([broadcastEvent('order.issued', { orderId: 'o-rb', kind: 'quarantine', target: { identityId: ID }, reason: 'INC-7', actor: 'responder@example.com' }, { id: 'rb-3', time: Date.now() })]);
    const denied = await waitFor('the quarantine to reach the enforcer', () => {
      const d = a.authorize(ID, undefined, 'db:write', 'db/pay');
      return d.allowed ? undefined : d;
    });
    expect(denied.code).toBe('not-in-scope');
    N = a.state.identities.get(ID)!.version;
    expect(N).toBeGreaterThan(oldSnapshot.value.version);
    await waitFor(`snapshot version ${N} on the topic`, () => snapshotsOf(ID).some((m) => m.value.version === N));

    // The attack: the captured old snapshot, bytes and signature headers as they were.
    const [sent] = await fx.producer.send({ topic: fx.topics.scopeSnapshots, acks: -1, messages: [{ key: ID, value: oldSnapshot.raw, headers: oldSnapshot.headers }] });
    replayOffset = sent!.baseOffset!;
    await waitFor('the enforcer to refuse the replay', () => rejected.find((r) => r.includes(`rollback refused: version ${oldSnapshot.value.version} of ${ID}`)), 15_000);
    const alert = await waitFor('a rejected-command alert for the replay', () => alerts().find((x) => x.type === 'rejected-command' && x.details.offset === replayOffset));
    expect(alert).toMatchObject({ identityId: ID, severity: 'critical', enforcerId: `gw-rb-${fx.id}`, details: { code: 'VERSION_ROLLBACK', heldVersion: N, offeredVersion: oldSnapshot.value.version, topic: fx.topics.scopeSnapshots, partition: 0 } });
    expect(a.state.identities.get(ID)!.version).toBe(N);
    expect(a.authorize(ID, undefined, 'db:write', 'db/pay').allowed).toBe(false);

    // Its decision reports go to their own topic (enforcement points write nothing that can widen), and the worker relays them.
    await waitFor('a decision report on the reports topic', () => tail.of<LivescopeEvent>(fx.topics.enforcerReports).find((m) => m.key === ID && m.value.source === `enforcer/gw-rb-${fx.id}`));
    await waitFor('the report relayed into the events topic', () => tail.of<LivescopeEvent>(fx.topics.events).find((m) => m.value?.type === 'enforcement.decisions' && m.value.source === `enforcer/gw-rb-${fx.id}`));

    await a.stop();
    expect((await readFile(highWaterFile, 'utf8')).split('\n')).toContain(`${N} ${ID}`);
  });

  it('once compaction left the replay as the newest snapshot, a restarted enforcer with its high-water file never takes it', async () => {
    // Another identity's snapshot rolls the segment holding the replay, so the log cleaner can compact it.
    await new Promise((r) => setTimeout(r, 200)); // segment.ms is 100: the next append rolls a new segment
    await fx.publish([
      identityEvent('identity.created', 'sa-filler', { kind: 'workload', name: 'f', namespace: 'pay', owner: 'o' }, { id: 'rb-4', time: Date.now() }),
      identityEvent('entitlement.granted', 'sa-filler', { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/pay', access: 'read' }] }, { id: 'rb-5', time: Date.now() }),
    ]);
    await waitFor('the filler snapshot', () => snapshotsOf('sa-filler').length > 0);
    const passes = await new SnapshotPasses().start();
    try {
      await waitFor(`the log cleaner to leave only the replayed version ${oldSnapshot.value.version} of ${ID}`, () => {
        const v = passes.versionsOf(ID);
        return v !== undefined && v.length === 1 && v[0] === oldSnapshot.value.version;
      }, 180_000, 500);
    } finally {
      await passes.stop();
    }

    const rejected: string[] = [];
    // Snapshots only (the default also reads the last minute of changes, which would hold version N): the file alone protects.
    const b = enforcer(`gw-rb-${fx.id}`, rejected, { highWaterFile, changesLookbackMs: 0 });
    await b.start();
    await b.ready;
    expect(b.state.identities.has(ID)).toBe(false);
    expect(b.state.behind.get(ID)).toBe(N);
    for (const [action, resource] of [['db:write', 'db/pay'], ['db:read', 'db/pay']] as const) {
      const d = b.authorize(ID, undefined, action, resource);
      expect(d).toMatchObject({ allowed: false, code: 'stale' });
      expect(d.reason).toContain(`version ${N} was applied here before a restart`);
    }
    const alert = await waitFor('an alert that the identity is behind', () => alerts().find((x) => x.alertId === `gw-rb-${fx.id}/behind/${ID}/${N}`));
    expect(alert).toMatchObject({ type: 'rejected-command', identityId: ID, details: { highWaterVersion: N, offeredVersion: oldSnapshot.value.version, offset: replayOffset } });
  });

  it('without the file, an enforcer reading the retained changes ends at version N; with neither it takes the replay (the documented limit)', async () => {
    const c = enforcer(`gw-rb-c-${fx.id}`, [], { changesLookbackMs: Number.POSITIVE_INFINITY });
    await c.start();
    await c.ready;
    expect(c.state.identities.get(ID)!.version).toBe(N);
    expect(c.authorize(ID, undefined, 'db:write', 'db/pay').allowed).toBe(false);

    const d = enforcer(`gw-rb-d-${fx.id}`, [], { changesLookbackMs: 0 });
    await d.start();
    await d.ready;
    expect(d.state.identities.get(ID)!.version).toBe(oldSnapshot.value.version);
  });

  it('the behind enforcer catches up with the next command at or above its high-water version', async () => {
    const [b, c] = [enforcers[1]!, enforcers[2]!];
    await fx.publish([broadcastEvent('order.lifted', { orderId: 'o-rb', actor: 'responder@example.com', reason: 'resolved' }, { id: 'rb-6', time: Date.now() })]);
    for (const e of [b, c]) await waitFor(`version ${N + 1} at ${e.groupId}`, () => (e.state.identities.get(ID)?.version ?? 0) > N);
    expect(b.state.behind.has(ID)).toBe(false);
    expect(b.authorize(ID, undefined, 'db:write', 'db/pay')).toMatchObject({ allowed: true });
  });

  it('a high-water file that cannot be read fails the start: the lifecycle is failed and run() rejects with the cause', async () => {
    const corrupt = join(dir, 'corrupt.high-water');
    await writeFile(corrupt, 'not a high-water file\n');
    const e = enforcer(`gw-rb-corrupt-${fx.id}`, [], { highWaterFile: corrupt });
    const started = e.start();
    await expect(started).rejects.toMatchObject({ code: 'HIGH_WATER_FILE_INVALID', classification: 'fatal' });
    expect(e.status).toBe('failed');
    await expect(e.run()).rejects.toMatchObject({ code: 'HIGH_WATER_FILE_INVALID' });
    // Nothing was loaded, so everything is denied.
    expect(e.authorize(ID, undefined, 'db:read', 'db/pay').allowed).toBe(false);
  });

  it('run() resolves once the enforcer has stopped', async () => {
    const e = enforcer(`gw-rb-run-${fx.id}`, []);
    await e.start();
    const ran = e.run();
    let settled = false;
    void ran.then(() => (settled = true));
    await e.ready;
    expect(settled).toBe(false);
    await e.stop();
    await expect(ran).resolves.toBeUndefined();
    expect(e.status).toBe('stopped');
  });
});
