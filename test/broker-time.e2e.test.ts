import { broadcastEvent, identityEvent, releaseWindowSigningPayload, type DeadLetter, type ScopeChange } from '@livescope/contracts';
import { PipelineFixture, waitFor, WorkerProcess, type TopicTail } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicyFiles, releaseManager } from './support/ScenarioRunner.js';

/**
 * Broker time (issue 13): the events topic is stamped by the broker (LogAppendTime), so the instant
 * an event is processed at is the broker's append time, not what a producer writes in the message
 * timestamp. A producer that dates its messages three hours ahead can neither expire a two-hour
 * quarantine nor open a release window early, and an event whose own time runs ahead of the
 * broker's is dead-lettered.
 */
const H = 3_600_000;
let fx: PipelineFixture;
let worker: WorkerProcess;
let tail: TopicTail;
const signer = releaseManager();

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  tail = await fx.tail(['scopeChanges', 'deadLetters']);
  worker = new WorkerProcess('broker-time', fx.workerEnv({ LIVESCOPE_RELEASE_SIGNERS: signer.env })).start();
  const now = Date.now();
  await fx.publish([broadcastEvent('policies.published', { version: 1, policies: examplePolicyFiles(), publishedBy: 'platform-team' }, { id: `pol-${fx.id}`, time: now })]);
});

afterAll(async () => {
  await worker?.stop();
  await fx?.close();
});

const changesOf = (id: string): ScopeChange[] => tail.of<ScopeChange>(fx.topics.scopeChanges).filter((m) => m.value.identityId === id).map((m) => m.value);
const scopeOf = (id: string): string[] => (changesOf(id).at(-1)?.permissions ?? []).map((p) => `${p.action} ${p.resource}`).sort();

describe('the processing instant is the broker append time', () => {
  it('a telemetry event dated three hours ahead does not expire a two-hour quarantine', async () => {
    const id = `db-${fx.id}`;
    const now = Date.now();
    await fx.publish([
      identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'payments', owner: 'team' }, { id: `${id}/c`, time: now }),
      identityEvent('entitlement.granted', id, { grantId: `${id}/g`, role: 'db-rw', permissions: [{ action: 'db:read', resource: 'db/orders', access: 'read' }, { action: 'db:write', resource: 'db/orders', access: 'write' }] }, { id: `${id}/g`, time: now }),
    ]);
    await waitFor('the grant', () => scopeOf(id).length === 2 || undefined);
    await fx.publish([broadcastEvent('order.issued', { orderId: `q-${id}`, kind: 'quarantine', target: { identityId: id }, expiresAt: new Date(now + 2 * H).toISOString(), reason: 'suspected key leak', actor: 'oncall' }, { id: `q-${id}`, time: now })]);
    await waitFor('the quarantine', () => (changesOf(id).at(-1)?.direction === 'narrowing' && scopeOf(id).length === 0) || undefined);
    const before = changesOf(id).length;
    // The producer sets the message timestamp three hours ahead (with CreateTime this expired the order).
    await fx.publish([identityEvent('telemetry.risk-scored', id, { score: 20 }, { id: `${id}/risk`, time: now })], now + 3 * H);
    const store = await fx.store();
    await waitFor('the worker to apply the future-dated message', async () => {
      const s = await store.identityState(id);
      return s && (JSON.parse(s.state) as { r: number }).r === 20 ? true : undefined;
    });
    // Still quarantined: no widening change, the state's clock is the broker's.
    expect(changesOf(id).slice(before).filter((c) => c.direction === 'widening' || c.direction === 'mixed')).toEqual([]);
    expect(scopeOf(id)).toEqual([]);
    const state = JSON.parse((await store.identityState(id))!.state) as { clk: number };
    expect(state.clk).toBeLessThan(Date.now() + 60_000);
  });

  it('a release window dated ahead does not open early, and an event timed ahead of the broker is dead-lettered', async () => {
    const id = `ci-${fx.id}`;
    const now = Date.now();
    await fx.publish([
      identityEvent('identity.created', id, { kind: 'ci-job', name: id, namespace: 'checkout', owner: 'team' }, { id: `${id}/c`, time: now }),
      identityEvent('entitlement.granted', id, { grantId: `${id}/g`, role: 'deployer', permissions: [{ action: 'k8s:deploy', resource: 'k8s/checkout/deployments', access: 'write', namespace: 'checkout' }, { action: 'k8s:read', resource: 'k8s/checkout/deployments', access: 'read', namespace: 'checkout' }] }, { id: `${id}/g`, time: now }),
    ]);
    await waitFor('the read-only scope', () => (scopeOf(id).join() === 'k8s:read k8s/checkout/deployments') || undefined);
    const w = { windowId: `w-${id}`, namespace: 'checkout', startsAt: new Date(now + H).toISOString(), endsAt: new Date(now + 2 * H).toISOString(), signedBy: signer.name };
    // Message timestamp 90 minutes ahead: inside the window if the producer chose the instant.
    await fx.publish([broadcastEvent('org.release-window', { ...w, signature: signer.sign(releaseWindowSigningPayload(w)) }, { id: `win-${id}`, time: now })], now + 1.5 * H);
    // An event whose own time is 3 h ahead of the broker's clock.
    await fx.publish([identityEvent('telemetry.risk-scored', id, { score: 99 }, { id: `${id}/future`, time: now + 3 * H })]);
    const dl = await waitFor('the dead letter of the future-timed event', () => tail.of<DeadLetter>(fx.topics.deadLetters).find((d) => d.value.eventId === `${id}/future`));
    expect(dl.value.reason).toBe('timestamp-in-future');
    // The window was applied (it is in the partition's globals) but deploy did not enter the scope.
    const store = await fx.store();
    await waitFor('the window in the org-wide state', async () => {
      const { rows } = await store.query<{ globals: string | null }>('SELECT globals FROM partition_state WHERE topic = $1', [fx.topics.events], 'globals');
      return rows.every((r) => r.globals?.includes(w.windowId)) || undefined;
    });
    expect(scopeOf(id)).toEqual(['k8s:read k8s/checkout/deployments']);
  });
});
