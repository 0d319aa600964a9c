import { broadcastEvent, identityEvent, type LivescopeEvent, type ScopeChange, type ScopeSnapshot } from '@livescope/contracts';
import { emptyOutput, encodeIdentity, permitAllPolicy, ScopeEngine } from '@livescope/scope-engine';
import { Store } from '@livescope/store';
import { PipelineFixture, testEnv, waitFor, type TailedMessage, type TopicTail } from '@livescope/testkit';
import { partitionForKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import type { PartitionFaults } from './PartitionRunner.js';
import type { ScopeWorker } from './ScopeWorker.js';

/**
 * Restart with states in PostgreSQL (issue 15): a worker whose partitions process while their
 * identities load (LIVESCOPE_PARTITION_LOAD=background) produces exactly the commands, states,
 * offsets and audit rows that a worker which loads every identity first (eager) produces, over the
 * same rows and the same events. The background worker's bulk loads are held back, so its identity
 * events meet identities not loaded yet, the JIT grant that expired while no worker ran fires from
 * the timer query, and the broadcasts force the full load.
 */
const PARTITIONS = 3;
const IDENTITIES = 30;
const HOUR = 3_600_000;
let fx: PipelineFixture;
const schemas: Record<'eager' | 'background', string> = { eager: '', background: '' };
const stores: Store[] = [];
const T0 = Date.now() - HOUR;
const ids = Array.from({ length: IDENTITIES }, (_, i) => `load-${i}`);
const partitionOf = (id: string): number => partitionForKey(id, PARTITIONS);

/** The states a worker would have left: write grants for everyone, a lease of secret/x for two, a JIT grant that expired 10 minutes ago for one. */
function storedStates(): { id: string; partition: number; version: number; status: string; wakeAt: number | null; state: string }[] {
  const engine = new ScopeEngine({ compilePolicies: () => permitAllPolicy, verifyReleaseWindow: () => true });
  const out = emptyOutput();
  const apply = (e: LivescopeEvent): void => void engine.handle(e, { timestampMs: T0, producer: { kind: 'trusted', keyId: 'provisioning' } }, out);
  for (const [i, id] of ids.entries()) {
    apply(identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: i % 2 ? 'pay' : 'ci', owner: 'team' }, { id: `c-${id}`, time: T0 }));
    apply(identityEvent('entitlement.granted', id, { grantId: `g-${id}`, role: 'writer', permissions: [{ action: 'db:write', resource: `db/${i}`, access: 'write' }] }, { id: `g-${id}`, time: T0 }));
  }
  for (const id of [ids[5]!, ids[6]!]) apply(identityEvent('secret.lease-created', id, { leaseId: `lease-${id}`, secretPath: 'secret/x', expiresAt: new Date(T0 + 24 * HOUR).toISOString() }, { id: `l-${id}`, time: T0 }));
  apply(identityEvent('jit.granted', ids[7]!, { grantId: 'jit-7', expiresAt: new Date(Date.now() - 10 * 60_000).toISOString(), permissions: [{ action: 'vault:read', resource: 'secret/db', access: 'read' }] }, { id: 'j-7', time: T0 }));
  return engine.drainDirty().identities.map((s) => ({ id: s.id, partition: partitionOf(s.id), version: s.version, status: s.status, wakeAt: s.wakeAt, state: encodeIdentity(s) }));
}

async function seed(store: Store, rows: ReturnType<typeof storedStates>): Promise<void> {
  await store.query(
    `INSERT INTO identity_state (identity_id, partition, version, status, wake_at, state)
     SELECT r->>0, (r->>1)::int, (r->>2)::bigint, r->>3, to_timestamp((r->>4)::float8 / 1000.0), r->>5 FROM json_array_elements($1::json) AS r`,
    [JSON.stringify(rows.map((r) => [r.id, r.partition, r.version, r.status, r.wakeAt, r.state]))],
    'seed states',
  );
}

async function atEnd(store: Store): Promise<boolean> {
  const ends = await fx.admin.fetchTopicOffsets(fx.topics.events);
  const { rows } = await store.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM partition_state WHERE topic = $1', [fx.topics.events], 'offsets');
  return ends.every((e) => rows.some((r) => r.partition === e.partition && BigInt(r.next_offset) >= BigInt(e.high)));
}

/** Runs one worker over its own schema and consumer group until it has applied every event, then stops it. */
async function runWorker(mode: 'eager' | 'background', extraEnv: Record<string, string>, faults?: PartitionFaults, hooks: { started?: (w: ScopeWorker) => void; beforeStop?: () => void } = {}): Promise<void> {
  const store = stores[mode === 'eager' ? 0 : 1]!;
  const env = fx.workerEnv({ LIVESCOPE_PG_SCHEMA: schemas[mode], LIVESCOPE_GROUP_ID: `${fx.groupId}-${mode}`, LIVESCOPE_PARTITION_LOAD: mode,
    // A pending snapshot's due instant follows the worker's timer clock, which differs between the
    // two runs: snapshots go with their change here, so that states compare byte for byte.
    LIVESCOPE_SNAPSHOT_INTERVAL_MS: '0',
    ...extraEnv,
  });
  const built = await createWorker(loadWorkerConfig(env), fx.logger, () => permitAllPolicy, faults);
  try {
    hooks.started?.(built.worker);
    await built.worker.start();
    await waitFor(`the ${mode} worker to apply every event`, () => atEnd(store), 60_000);
  } finally {
    hooks.beforeStop?.();
    await built.worker.stop();
    await built.store.close();
  }
}

/** Output topics' end offsets now: what the tail holds below them was produced before. */
async function outputEnds(): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of [fx.topics.scopeChanges, fx.topics.scopeSnapshots, fx.topics.revocations, fx.topics.driftAlerts, fx.topics.deadLetters]) {
    for (const o of await fx.admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${o.partition}`, BigInt(o.high));
  }
  return ends;
}

/** What enforcers and the SOC see of a run: every change, revocation, alert and dead letter in order per identity, and the last snapshot of each identity (snapshots are cut to the last per identity and batch, and the runs batch differently). */
function view(messages: readonly TailedMessage[]): Record<string, unknown> {
  const byTopic = (topic: string): TailedMessage[] => messages.filter((m) => m.topic === topic);
  const ordered = (topic: string): string[] => byTopic(topic).map((m) => JSON.stringify([m.key, m.value])).sort();
  const lastSnapshots = new Map<string, ScopeSnapshot>();
  for (const m of byTopic(fx.topics.scopeSnapshots) as TailedMessage<ScopeSnapshot>[]) {
    const held = lastSnapshots.get(m.value.identityId);
    if (!held || held.version < m.value.version) lastSnapshots.set(m.value.identityId, m.value);
  }
  return {
    changes: ordered(fx.topics.scopeChanges),
    revocations: ordered(fx.topics.revocations),
    alerts: ordered(fx.topics.driftAlerts),
    deadLetters: byTopic(fx.topics.deadLetters).map((m) => JSON.stringify({ ...(m.value as object), workerId: undefined })).sort(),
    snapshots: [...lastSnapshots.values()].map((s) => JSON.stringify(s)).sort(),
  };
}

async function database(store: Store): Promise<unknown> {
  const states = await store.query('SELECT identity_id, partition, version::text, status, wake_at, state FROM identity_state ORDER BY identity_id', [], 'states');
  const offsets = await store.query('SELECT partition, next_offset::text FROM partition_state ORDER BY partition', [], 'offsets');
  // The same audit rows, each chain intact. Their order within a broadcast follows the engine's
  // iteration order over its identities (load order), which differs between the two modes as it
  // already does between a worker that ran through and one restarted: per identity it is the same.
  const audit = await store.query('SELECT partition, kind, identity_id, version::text, event_id, payload FROM audit_log ORDER BY partition, identity_id, version, kind, payload', [], 'audit');
  const perIdentity = await store.query('SELECT identity_id, array_agg(version::text ORDER BY seq) AS versions FROM audit_log WHERE identity_id IS NOT NULL GROUP BY identity_id ORDER BY identity_id', [], 'audit order per identity');
  const verified = await store.verifyAudit();
  return { states: states.rows, offsets: offsets.rows, audit: audit.rows, perIdentity: perIdentity.rows, chainsIntact: verified.ok, auditRows: verified.rows };
}

beforeAll(async () => {
  fx = await new PipelineFixture(PARTITIONS).open();
  schemas.eager = `${fx.schema}_eager`;
  schemas.background = `${fx.schema}_bg`;
  const rows = storedStates();
  for (const schema of [schemas.eager, schemas.background]) {
    const store = await Store.open({ connectionString: testEnv.pgUrl, schema });
    stores.push(store);
    await seed(store, rows);
  }
});

afterAll(async () => {
  for (const [i, store] of stores.entries()) {
    await store.query(`DROP SCHEMA IF EXISTS ${i === 0 ? schemas.eager : schemas.background} CASCADE`, [], 'drop test schema').catch(() => undefined);
    await store.close();
  }
  await fx?.close();
});

describe('restart with identity states in PostgreSQL: background load vs eager load', () => {
  it('produces the same commands, states, offsets and audit rows', async () => {
    const tail: TopicTail = await fx.tail(['scopeChanges', 'scopeSnapshots', 'revocations', 'driftAlerts', 'deadLetters']);
    const t = Date.now();
    // The approver of load-3 is a workload of the same partition: refused (a machine approving), which
    // the engine can only tell with the approver's state in memory.
    const approver = ids.find((id, i) => i > 10 && partitionOf(id) === partitionOf(ids[3]!))!;
    // An identity event in the partition of load-7 comes before the broadcasts there, so that its
    // expired JIT grant fires while that partition is still partial.
    const neighbour = ids.find((id, i) => i > 10 && id !== approver && partitionOf(id) === partitionOf(ids[7]!))!;
    await fx.publish([
      identityEvent('telemetry.risk-scored', ids[1]!, { score: 40 }, { id: 'r-1', time: t }),
      identityEvent('entitlement.revoked', ids[2]!, { grantId: `g-${ids[2]!}` }, { id: 'rv-2', time: t }),
      identityEvent('session.approval-granted', ids[3]!, { approvalId: 'a-3', escalation: 'deploy', approvedBy: approver, approver: { kind: 'human', subject: approver, issuer: 'https://idp', evidence: 'oidc-id-token' }, expiresAt: new Date(t + HOUR).toISOString() }, { id: 'ap-3', time: t }),
      identityEvent('session.started', ids[4]!, { sessionId: 's-4', task: 'deploy' }, { id: 's-4', time: t }),
      identityEvent('telemetry.risk-scored', neighbour, { score: 30 }, { id: 'r-n', time: t }),
      identityEvent('identity.created', 'load-new', { kind: 'agent', name: 'n', namespace: 'ci', owner: 'team' }, { id: 'c-new', time: t }),
    ]);
    await fx.publish([
      broadcastEvent('secret.leaked', { secretPath: 'secret/x', evidence: 'paste site' }, { id: 'leak-x', time: t + 1 }),
      broadcastEvent('order.issued', { orderId: 'o-ro', kind: 'read-only', target: { all: true }, reason: 'incident', actor: 'soc' }, { id: 'o-ro', time: t + 2 }),
    ]);

    // Both runs apply one message per batch: a timer that fires inside a broadcast's batch (the engine
    // advances each identity it reaches) is computed under the new org-wide state, and one that fires
    // at the end of the batch before it is not, so outputs depend on batch boundaries in either mode.
    await runWorker('eager', { LIVESCOPE_MAX_BATCH_MESSAGES: '1' });
    const boundary = await outputEnds();
    await waitFor('the eager run outputs in the tail', () => [...boundary].every(([tp, end]) => end === 0n || tail.messages.some((m) => `${m.topic}/${m.partition}` === tp && BigInt(m.offset) === end - 1n)));

    // Bulk loads held until the end: identity events meet identities not loaded yet.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const commitsWhilePartial: string[] = [];
    let background: ScopeWorker | undefined;
    const faults: PartitionFaults = {
      beforeBackgroundLoad: () => held,
      beforeCommit: (partition, commit) => {
        if (background?.runner(partition)?.loader.complete === false) commitsWhilePartial.push(...commit.identities.map((r) => r.identityId));
      },
    };
    await runWorker('background', { LIVESCOPE_MAX_BATCH_MESSAGES: '1' }, faults, { started: (w) => (background = w), beforeStop: release });
    const endsAfter = await outputEnds();
    await waitFor('the background run outputs in the tail', () => [...endsAfter].every(([tp, end]) => end === boundary.get(tp) || tail.messages.some((m) => `${m.topic}/${m.partition}` === tp && BigInt(m.offset) === end - 1n)));

    const before = tail.messages.filter((m) => BigInt(m.offset) < boundary.get(`${m.topic}/${m.partition}`)!);
    const after = tail.messages.filter((m) => BigInt(m.offset) >= boundary.get(`${m.topic}/${m.partition}`)!);
    const eagerView = view(before);
    // What the runs must show: the expired JIT grant fired, the machine approval was refused, the leak revoked both leases, the order narrowed every identity.
    const changes = before.filter((m) => m.topic === fx.topics.scopeChanges) as TailedMessage<ScopeChange>[];
    expect(changes.some((m) => m.value.identityId === ids[7] && m.value.cause.timer === true)).toBe(true);
    expect(before.filter((m) => m.topic === fx.topics.deadLetters).map((m) => (m.value as { reason: string }).reason)).toEqual(['invalid-approval']);
    expect(before.filter((m) => m.topic === fx.topics.revocations).map((m) => m.key).sort()).toEqual([ids[5], ids[6]].sort());
    // Every stored identity but load-2, whose write grant was revoked before the order, loses db:write.
    expect(new Set(changes.filter((m) => m.value.cause.orderIds?.includes('o-ro')).map((m) => m.value.identityId))).toEqual(new Set(ids.filter((id) => id !== ids[2])));
    // The background run went through the partial states it is meant to test.
    expect(commitsWhilePartial).toEqual(expect.arrayContaining([ids[1], ids[2], ids[4], ids[7], 'load-new']));
    expect(view(after)).toEqual(eagerView);
    expect(await database(stores[1]!)).toEqual(await database(stores[0]!));
  });
});
