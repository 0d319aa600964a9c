import { identityEvent, type ScopeChange, type ScopeSnapshot } from '@livescope/contracts';
import { Enforcer, type EnforcerOptions } from '@livescope/enforcer';
import { PipelineFixture, WorkerProcess, waitFor, type TopicTail } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 15: the worker writes an identity's snapshot at most once per LIVESCOPE_SNAPSHOT_INTERVAL_MS,
 * an interval after the change that made it due. An enforcement point that starts between a change
 * and its delayed snapshot must still converge to the change's version: with the default changes
 * lookback it holds it when ready; reading snapshots only, it takes it when the snapshot comes —
 * which a worker restart in between does not lose (the pending snapshot is in the committed state).
 */
const INTERVAL_MS = 45_000;
const ID = 'sa-snap-1';
let fx: PipelineFixture;
let worker: WorkerProcess | undefined;
let tail: TopicTail;
const enforcers: Enforcer[] = [];

function enforcer(name: string, extra: Partial<EnforcerOptions> = {}): Enforcer {
  const e = new Enforcer({
    brokers: ['127.0.0.1:9092'],
    registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    enforcerId: `${name}-${fx.id}`,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
    requireSession: false,
    ...extra,
  });
  enforcers.push(e);
  return e;
}

const env = (): Record<string, string> => fx.workerEnv({ LIVESCOPE_SNAPSHOT_INTERVAL_MS: String(INTERVAL_MS) });
const snapshotsOf = (version: number): ScopeSnapshot[] => tail.of<ScopeSnapshot>(fx.topics.scopeSnapshots).filter((m) => m.value.identityId === ID && m.value.version === version).map((m) => m.value);
const changeOf = (version: number): ScopeChange | undefined => tail.of<ScopeChange>(fx.topics.scopeChanges).find((m) => m.value.identityId === ID && m.value.version === version)?.value;

beforeAll(async () => {
  fx = await new PipelineFixture(1).open();
  worker = new WorkerProcess('snap-worker-1', env()).start();
  tail = await fx.tail(['scopeChanges', 'scopeSnapshots']);
});

afterAll(async () => {
  for (const e of enforcers) await e.stop();
  await worker?.stop();
  await fx?.close();
});

describe('snapshots spaced by the worker', () => {
  it('an enforcement point started between a narrowing and its delayed snapshot converges to the narrowing; the snapshot survives a worker restart', async () => {
    const t = Date.now();
    await fx.publish([
      identityEvent('identity.created', ID, { kind: 'workload', name: ID, namespace: 'snap', owner: 'o' }, { id: `c-${ID}`, time: t }),
      identityEvent('entitlement.granted', ID, { grantId: 'g1', role: 'writer', permissions: [{ action: 'db:write', resource: 'db/snap', access: 'write' }] }, { id: `g-${ID}`, time: t }),
    ]);
    await waitFor('the widening', () => changeOf(1), 60_000, 100);
    await waitFor('its snapshot, an interval later', () => snapshotsOf(1)[0], INTERVAL_MS + 60_000, 200);

    await fx.publish([identityEvent('entitlement.revoked', ID, { grantId: 'g1' }, { id: `r-${ID}`, time: Date.now() })]);
    expect(await waitFor('the narrowing', () => changeOf(2), 60_000, 100)).toMatchObject({ direction: 'narrowing', permissions: [] });
    const lookback = enforcer('gw-lookback');
    const snapshotsOnly = enforcer('gw-snapshots', { changesLookbackMs: 0 });
    await Promise.all([lookback.start(), snapshotsOnly.start()]);
    await Promise.all([lookback.ready, snapshotsOnly.ready]);
    // Both started inside the window: the snapshot topic still holds version 1 only.
    expect(snapshotsOf(2)).toEqual([]);
    expect(lookback.authorize(ID, undefined, 'db:write', 'db/snap')).toMatchObject({ allowed: false, version: 2 });
    expect(snapshotsOnly.authorize(ID, undefined, 'db:write', 'db/snap')).toMatchObject({ allowed: true, version: 1 });

    // The worker restarts before the snapshot is due; its successor produces it from the committed state.
    await worker!.stop();
    expect(snapshotsOf(2)).toEqual([]);
    worker = new WorkerProcess('snap-worker-2', env()).start();
    const [snapshot] = await waitFor('the delayed snapshot of version 2', () => snapshotsOf(2).length > 0 && snapshotsOf(2), INTERVAL_MS + 60_000, 200);
    expect(snapshot).toMatchObject({ status: 'active', permissions: [] });
    await waitFor('the snapshots-only enforcer to take version 2', () => snapshotsOnly.authorize(ID, undefined, 'db:write', 'db/snap').version === 2 || undefined, 60_000, 100);
    expect(snapshotsOnly.authorize(ID, undefined, 'db:write', 'db/snap').allowed).toBe(false);
    expect(lookback.authorize(ID, undefined, 'db:write', 'db/snap')).toMatchObject({ allowed: false, version: 2 });
    for (const e of enforcers) expect(e.stats.rejected).toBe(0);
  }, 480_000);
});
