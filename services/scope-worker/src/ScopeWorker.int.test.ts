import { encodeWire, encodeWireJson, identityEvent, type DeadLetter, type Revocation, type ScopeChange } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { PipelineFixture, waitFor } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import type { ScopeWorker } from './ScopeWorker.js';

const T = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
let fx: PipelineFixture;
let worker: ScopeWorker;
let closeStore: () => Promise<void>;

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  const built = await createWorker(loadWorkerConfig(fx.workerEnv()), fx.logger, () => permitAllPolicy);
  worker = built.worker;
  closeStore = () => built.store.close();
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await closeStore?.();
  await fx?.close();
});

describe('scope worker over real Kafka, registry and PostgreSQL', () => {
  it('applies events, publishes versioned commands and persists state with offsets', async () => {
    const tail = await fx.tail(['scopeChanges', 'revocations', 'scopeSnapshots']);
    await fx.publish([
      identityEvent('identity.created', 'sa-int-1', { kind: 'service-account', name: 'sa', namespace: 'ci', owner: 'team' }, { id: 'e1', time: T }),
      identityEvent('session.started', 'sa-int-1', { sessionId: 's1', task: 'deploy' }, { id: 'e2', time: T + 1 }),
      identityEvent('jit.granted', 'sa-int-1', { grantId: 'j1', sessionId: 's1', expiresAt: iso(T + 300_000), permissions: [{ action: 'vault:read', resource: 'secret/db', access: 'read' }] }, { id: 'e3', time: T + 2 }),
      identityEvent('secret.lease-created', 'sa-int-1', { leaseId: 'l1', secretPath: 'secret/db', sessionId: 's1', expiresAt: iso(T + 600_000) }, { id: 'e4', time: T + 3 }),
    ]);
    const widened = await waitFor('the widening', () => tail.of<ScopeChange>(fx.topics.scopeChanges).find((m) => m.value.permissions.length === 1));
    expect(widened.value).toMatchObject({ identityId: 'sa-int-1', sessions: ['s1'] });
    expect(widened.key).toBe('sa-int-1');
    expect(widened.headers['livescope-kid']?.toString()).toBe(fx.keys.kid);

    await fx.publish([identityEvent('session.task-completed', 'sa-int-1', { sessionId: 's1' }, { id: 'e5', time: T + 4 })]);
    const revs = await waitFor('the revocations', () => {
      const r = tail.of<Revocation>(fx.topics.revocations).filter((m) => m.value.identityId === 'sa-int-1');
      return r.length >= 2 ? r : undefined;
    });
    expect(revs.map((r) => `${r.value.target.type}:${r.value.target.id}`)).toEqual(['session:s1', 'lease:l1']);
    const narrowed = await waitFor('the narrowing', () => tail.of<ScopeChange>(fx.topics.scopeChanges).find((m) => m.value.direction === 'narrowing'));
    expect(narrowed.value.permissions).toEqual([]);

    const store = await fx.store();
    const state = await waitFor('state in PostgreSQL', async () => {
      const s = await store.identityState('sa-int-1');
      return s && (JSON.parse(s.state) as { ver: number }).ver === narrowed.value.version ? s : undefined;
    });
    expect(state.partition).toBe(narrowed.partition);
    const audit = await store.auditOf('sa-int-1');
    expect(audit.map((a) => a.kind)).toContain('revocation');
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('dead-letters bad input with its reason and the original bytes, and keeps going', async () => {
    const tail = await fx.tail(['deadLetters', 'scopeChanges']);
    const good = identityEvent('identity.created', 'sa-int-2', { kind: 'workload', name: 'w', namespace: 'pay', owner: 'team' }, { id: 'g1', time: T });
    const schemaId = fx.publisher.schemaId;
    await fx.producer.send({
      topic: fx.topics.events,
      messages: [
        { key: 'sa-int-2', value: Buffer.from('this is not json') },
        { key: 'sa-int-2', value: encodeWire(schemaId, Buffer.from('{nope')) },
        { key: 'sa-int-2', value: encodeWireJson(schemaId, { ...good, data: { kind: 'robot' } }) },
        { key: 'sa-int-2', value: encodeWireJson(schemaId, good) },
        { key: 'sa-int-2', value: encodeWireJson(schemaId, identityEvent('entitlement.granted', 'sa-int-2', { grantId: 'g', role: 'r', permissions: [{ action: 'db:read', resource: 'db/x', access: 'read' }] }, { id: 'g2', time: T + 1 })) },
      ].map((m) => ({ ...m, headers: fx.producerHeaders(m.key, m.value) })),
    });
    const dls = await waitFor('three dead letters', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters);
      return d.length >= 3 ? d : undefined;
    });
    expect(dls.map((d) => d.value.reason).sort()).toEqual(['not-json', 'not-wire-format', 'schema-invalid']);
    expect(Buffer.from(dls.find((d) => d.value.reason === 'not-wire-format')!.value.value, 'base64').toString()).toBe('this is not json');
    await waitFor('the good event after the bad ones', () => tail.of<ScopeChange>(fx.topics.scopeChanges).find((m) => m.value.identityId === 'sa-int-2'));
  });
});
