import { identityEvent, type DeadLetter, type ScopeChange } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { StoreError } from '@livescope/store';
import { PipelineFixture, waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import type { ScopeWorker } from './ScopeWorker.js';

/**
 * Poison of a batch (issue 13): a message the engine accepts but whose effects PostgreSQL refuses
 * (here a fault hook refuses any commit holding identity `poisoned`, as it would a value it cannot
 * store) must cost only itself: the worker reloads the partition, applies the batch again message
 * by message, dead-letters the one that fails again, and commits the others.
 */
let fx: PipelineFixture;
let worker: ScopeWorker;
let closeStore: () => Promise<void>;
let refusals = 0;

beforeAll(async () => {
  fx = await new PipelineFixture(1).open();
  const built = await createWorker(loadWorkerConfig(fx.workerEnv()), fx.logger, () => permitAllPolicy, {
    beforeCommit(_partition, commit) {
      if (commit.identities.some((r) => r.identityId === 'poisoned')) {
        refusals++;
        throw new StoreError('PG_DATA', 'test fault: a value of identity poisoned cannot be stored');
      }
    },
  });
  worker = built.worker;
  closeStore = () => built.store.close();
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await closeStore?.();
  await fx?.close();
});

describe('a batch refused after it was applied', () => {
  it('is applied again message by message; the culprit alone is dead-lettered', async () => {
    const tail = await fx.tail(['deadLetters', 'scopeChanges']);
    const now = Date.now();
    const ev = (id: string, n: number) => [
      identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'x', owner: 'o' }, { id: `${id}/c`, time: now + n }),
      identityEvent('entitlement.granted', id, { grantId: `${id}/g`, role: 'r', permissions: [{ action: 'db:read', resource: `db/${id}`, access: 'read' }] }, { id: `${id}/g`, time: now + n }),
    ];
    // One produce request: the worker fetches them as one batch.
    await fx.publish([...ev('before', 0), ...ev('poisoned', 1), ...ev('after', 2)]);
    const dls = await waitFor('the dead letters of the poisoned identity', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters);
      return d.length >= 2 ? d : undefined;
    });
    // The identity's creation could not be stored: skipped; its grant then finds no identity.
    expect(dls.map((d) => [d.value.reason, d.value.eventId])).toEqual([
      ['unprocessable', undefined],
      ['unknown-identity', 'poisoned/g'],
    ]);
    expect(dls.map((d) => d.value.source.offset)).toEqual(['2', '3']);
    expect(dls[0]!.value.message).toContain('PG_DATA');
    const store = await fx.store();
    await waitFor('the other identities committed', async () => (await store.identityState('after')) !== undefined || undefined);
    expect(await store.identityState('before')).toBeDefined();
    expect(await store.identityState('poisoned')).toBeUndefined();
    expect(tail.of<ScopeChange>(fx.topics.scopeChanges).map((m) => m.value.identityId)).toContain('after');
    // At least the isolated attempt; the whole batch first when it arrived as one.
    expect(refusals).toBeGreaterThanOrEqual(1);
    expect(worker.state).toBe('running');
  });
});
