import { encodeWireJson, identityEvent, type DeadLetter, type ScopeChange } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { PipelineFixture, waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import type { ScopeWorker } from './ScopeWorker.js';
import type { WorkerMetrics } from './WorkerMetrics.js';

/**
 * The bad-input corpus of issue 5: every kind of bad message is dead-lettered with its reason (or
 * given its documented treatment), the worker never stops, and the counts are exposed as metrics.
 */
let fx: PipelineFixture;
let worker: ScopeWorker;
let metrics: WorkerMetrics;
let closeStore: () => Promise<void>;

beforeAll(async () => {
  fx = await new PipelineFixture(1).open();
  const built = await createWorker(loadWorkerConfig(fx.workerEnv({ LIVESCOPE_MAX_MESSAGE_BYTES: '4096' })), fx.logger, () => permitAllPolicy);
  ({ worker, metrics } = built);
  closeStore = () => built.store.close();
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await closeStore?.();
  await fx?.close();
});

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('bad input corpus', () => {
  it('dead-letters each bad message with its reason, ignores duplicates, and keeps going', async () => {
    const tail = await fx.tail(['deadLetters', 'scopeChanges']);
    const id = fx.publisher.schemaId;
    const now = Date.now();
    const created = identityEvent('identity.created', 'bad-1', { kind: 'workload', name: 'b', namespace: 'x', owner: 'o' }, { id: 'c1', time: now });
    const grant = (eid: string, resource: string) => identityEvent('entitlement.granted', 'bad-1', { grantId: eid, role: 'r', permissions: [{ action: 'db:read', resource, access: 'read' }] }, { id: eid, time: now });
    const v = (x: unknown) => encodeWireJson(id, x);
    const corpus: { key: string | null; value: Buffer; expect: string }[] = [
      { key: 'bad-1', value: Buffer.from('{"not":"wire format"}'), expect: 'not-wire-format' },
      { key: 'bad-1', value: Buffer.concat([Buffer.from([7, 0, 0, 0, 1]), Buffer.from('{}')]), expect: 'not-wire-format' },
      { key: 'bad-1', value: encodeWireJson(999_999, created), expect: 'unknown-schema-id' },
      { key: 'bad-1', value: Buffer.concat([Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), Buffer.from('not json at all')]), expect: 'not-json' },
      { key: 'bad-1', value: v({ ...created, time: 'yesterday' }), expect: 'schema-invalid' },
      { key: 'bad-1', value: v({ ...created, data: { ...created.data, name: 'x'.repeat(5000) } }), expect: 'oversized' },
      { key: null, value: v(created), expect: 'missing-key' },
      { key: 'someone-else', value: v(created), expect: 'key-mismatch' },
      { key: 'ghost', value: v(identityEvent('session.started', 'ghost', { sessionId: 's' }, { id: 'g1', time: now })), expect: 'unknown-identity' },
      { key: 'bad-1', value: v(created), expect: 'ok' },
      { key: 'bad-1', value: v(grant('dup-1', 'db/a')), expect: 'ok' },
      { key: 'bad-1', value: v(grant('dup-1', 'db/b')), expect: 'duplicate' },
      { key: 'bad-1', value: v({ ...grant('future-1', 'db/c'), time: new Date(now + 86_400_000).toISOString() }), expect: 'timestamp-in-future' },
      { key: 'bad-1', value: v(grant('last-1', 'db/d')), expect: 'ok' },
    ];
    await fx.producer.send({ topic: fx.topics.events, messages: corpus.map((c) => ({ key: c.key, value: c.value, timestamp: String(now), headers: fx.producerHeaders(c.key, c.value) })) });
    const reasons = corpus.filter((c) => c.expect !== 'ok' && c.expect !== 'duplicate').map((c) => c.expect);
    const dls = await waitFor('every dead letter', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters);
      return d.length >= reasons.length ? d : undefined;
    });
    expect(dls.map((d) => d.value.reason).sort()).toEqual([...reasons].sort());
    for (const d of dls) {
      expect(d.value.message.length).toBeGreaterThan(5);
      expect(d.value.source.topic).toBe(fx.topics.events);
      const original = corpus[Number(d.value.source.offset)]!;
      expect(Buffer.from(d.value.value, 'base64').equals(original.value)).toBe(true);
    }
    // The good events around the bad ones were applied; the duplicate grant (db/b) was ignored.
    const last = await waitFor('the last grant', () => tail.of<ScopeChange>(fx.topics.scopeChanges).find((m) => m.value.permissions.some((p) => p.resource === 'db/d')));
    expect(last.value.permissions.map((p) => p.resource).sort()).toEqual(['db/a', 'db/d']);
    for (const reason of new Set(reasons)) expect(await counter('livescope_dead_letters_total', { reason })).toBe(reasons.filter((r) => r === reason).length);
    expect(await counter('livescope_events_consumed_total', { type: 'entitlement.granted', outcome: 'duplicate' })).toBe(1);
    expect(worker.ownedPartitions).toEqual([0]);
  });
});
