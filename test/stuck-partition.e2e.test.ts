import { createServer } from 'node:net';
import { identityEvent, type DriftAlert, type ScopeSnapshot } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { PipelineFixture, testEnv, WorkerProcess, waitFor, type TopicTail } from '@livescope/testkit';
import { parsePublicKey, partitionForKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 13 item 4: liveness means progress. A worker whose partition is stuck keeps sending
 * heartbeats, but its applied offset does not advance while input waits: enforcement points fail
 * closed for that partition's identities (sensitive actions, code `stale`, the reason naming the
 * partition) within maxStalenessMs, and keep serving the other partitions; the worker exports
 * `livescope_partition_stuck{partition} 1` and raises a `partition-stuck` alert.
 *
 * The fault: the worker runs from its test-only entry (src/testing/faultyMain.ts) with
 * LIVESCOPE_TEST_STALL_PARTITIONS, so every commit of that partition fails as transient and is
 * retried in place forever.
 */
const PARTITIONS = 2;
const STALLED = 1;
const MAX_STALENESS_MS = 3000;
const STUCK_ALERT_MS = 3000;
/** Heartbeat interval, fetches, and a loaded 2-core machine. */
const BOUND_MS = 6000;

let fx: PipelineFixture;
let faulty: WorkerProcess;
let enforcer: Enforcer;
let tail: TopicTail;
let metricsPort = 0;

/** The first `prefix-<n>` whose key lands on `partition`. */
const identityOn = (partition: number, prefix: string): string => {
  for (let i = 0; i < 1000; i++) if (partitionForKey(`${prefix}-${i}`, PARTITIONS) === partition) return `${prefix}-${i}`;
  throw new Error(`no identity id for partition ${partition}`);
};
const stuckId = identityOn(STALLED, 'sa-stuck');
const fineId = identityOn(1 - STALLED, 'sa-fine');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function metrics(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  return res.ok ? res.text() : '';
}

beforeAll(async () => {
  fx = await new PipelineFixture(PARTITIONS).open();
  tail = await fx.tail(['scopeSnapshots', 'driftAlerts']);

  // A healthy worker sets up one identity on each partition, with a sensitive and a plain permission.
  const healthy = new WorkerProcess('stuck-setup-worker', fx.workerEnv()).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerReports}-value`)).size > 0, 60_000, 200);
  const t = Date.now();
  await fx.publish(
    [stuckId, fineId].flatMap((id) => [
      identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'pay', owner: 'o' }, { id: `${id}-c`, time: t }),
      identityEvent('entitlement.granted', id, { grantId: 'g1', role: 'r', permissions: [{ action: 'vault:read', resource: 'secret/x', access: 'read' }, { action: 'db:read', resource: 'db/x', access: 'read' }] }, { id: `${id}-g`, time: t }),
    ]),
  );
  await waitFor('both identities scoped', () => [stuckId, fineId].every((id) => tail.of<ScopeSnapshot>(fx.topics.scopeSnapshots).some((m) => m.value.identityId === id && m.value.permissions.length === 2)), 60_000);
  await healthy.stop();
  // The faulty worker re-reads what the healthy one applied (nothing to commit: it skips applied
  // offsets), so it owns both partitions and heartbeats for them before the fault is triggered.
  await fx.admin.resetOffsets({ groupId: fx.groupId, topic: fx.topics.events, earliest: true });

  metricsPort = await freePort();
  faulty = new WorkerProcess(
    'stuck-worker',
    fx.workerEnv({
      LIVESCOPE_TEST_STALL_PARTITIONS: String(STALLED),
      LIVESCOPE_PARTITION_STUCK_MS: String(STUCK_ALERT_MS),
      LIVESCOPE_HEARTBEAT_INTERVAL_MS: '200',
      LIVESCOPE_METRICS_PORT: String(metricsPort),
    }),
    [],
    { sourceEntry: 'services/scope-worker/src/testing/faultyMain.ts' },
  ).start();

  enforcer = new Enforcer({
    brokers: testEnv.brokers,
    registryUrl: testEnv.registryUrl,
    enforcerId: `gw-stuck-${fx.id}`,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
    requireSession: false,
    sensitiveActions: ['vault:read'],
    maxStalenessMs: MAX_STALENESS_MS,
    reportDecisions: false,
  });
  await enforcer.start();
  await enforcer.ready;
});

afterAll(async () => {
  await enforcer?.stop();
  await faulty?.stop();
  await fx?.close();
});

describe('a stuck partition', () => {
  it('fails closed for its identities within maxStalenessMs while heartbeats flow, and only for them', async () => {
    await waitFor(
      'both identities allowed their sensitive action (heartbeats of the faulty worker for both partitions)',
      () => [stuckId, fineId].every((id) => enforcer.authorize(id, undefined, 'vault:read', 'secret/x').allowed) || faulty.deadReason(),
      90_000,
      100,
    );
    expect(faulty.deadReason()).toBeUndefined();
    expect(await metrics()).toMatch(new RegExp(`livescope_partition_stuck\\{partition="${STALLED}"\\} 0`));

    // Input on the stalled partition: it is applied, but its commit never succeeds.
    const published = Date.now();
    await fx.publish([identityEvent('entitlement.granted', stuckId, { grantId: 'g2', role: 'r2', permissions: [{ action: 'db:read', resource: 'db/y', access: 'read' }] }, { id: `${stuckId}-g2`, time: published })]);
    const denied = await waitFor(
      `a fail-closed denial for ${stuckId} on partition ${STALLED}`,
      () => {
        const d = enforcer.authorize(stuckId, undefined, 'vault:read', 'secret/x');
        return d.allowed ? undefined : { d, at: Date.now() };
      },
      MAX_STALENESS_MS + BOUND_MS,
      50,
    );
    expect(denied.d.code).toBe('stale');
    expect(denied.d.reason).toMatch(new RegExp(`^fail-closed: partition ${STALLED} has not advanced past offset \\d+ for \\d+ ms while [1-9]\\d* messages wait \\(max ${MAX_STALENESS_MS} ms\\), and vault:read is sensitive$`));
    // It is the no-progress rule that denies, not silence: heartbeats keep coming.
    expect(Date.now() - enforcer.state.liveness.get(STALLED)!.heartbeatAt).toBeLessThan(MAX_STALENESS_MS);
    // Not before the partition could have been seen without progress for maxStalenessMs (one heartbeat interval of slack).
    expect(denied.at - published).toBeGreaterThanOrEqual(MAX_STALENESS_MS - 500);
    expect(denied.at - published).toBeLessThanOrEqual(MAX_STALENESS_MS + BOUND_MS);

    // The other partition keeps working, and so do actions not marked sensitive.
    expect(enforcer.authorize(fineId, undefined, 'vault:read', 'secret/x').allowed).toBe(true);
    expect(enforcer.authorize(stuckId, undefined, 'db:read', 'db/x').allowed).toBe(true);
  });

  it('the worker exports livescope_partition_stuck and raises a partition-stuck alert', async () => {
    await waitFor(`livescope_partition_stuck{partition="${STALLED}"} 1`, async () => new RegExp(`livescope_partition_stuck\\{partition="${STALLED}"\\} 1`).test(await metrics()), STUCK_ALERT_MS + BOUND_MS, 200);
    expect(await metrics()).toMatch(new RegExp(`livescope_partition_stuck\\{partition="${1 - STALLED}"\\} 0`));
    const alert = await waitFor('a partition-stuck alert', () => tail.of<DriftAlert>(fx.topics.driftAlerts).find((m) => m.value.type === 'partition-stuck')?.value, BOUND_MS);
    expect(alert).toMatchObject({ severity: 'critical', details: { partition: STALLED, workerId: 'stuck-worker' } });
    expect(alert.summary).toMatch(new RegExp(`partition ${STALLED} of .* has not advanced`));
    expect(enforcer.authorize(stuckId, undefined, 'vault:read', 'secret/x').code).toBe('stale');
  });
});
