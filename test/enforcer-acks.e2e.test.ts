import { identityEvent, type EnforcerAck } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { PipelineFixture, WorkerProcess, waitFor } from '@livescope/testkit';
import { CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * An enforcer that bootstraps a large fleet acknowledges every identity it applied, in messages
 * the broker accepts (its 1 MiB limit once crashed an enforcer that had 10,000 entries to send),
 * each signed with the enforcement point's own key over the acks topic and its id.
 */
const IDENTITIES = 5000;
let fx: PipelineFixture;
let worker: WorkerProcess;
let enforcer: Enforcer | undefined;

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  worker = new WorkerProcess('acks-worker', fx.workerEnv()).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
});

afterAll(async () => {
  await enforcer?.stop();
  await worker?.stop();
  await fx?.close();
});

describe('enforcer acknowledgements', () => {
  it(`bootstraps ${IDENTITIES.toLocaleString()} identities and acknowledges each, every ack message under the broker limit`, async () => {
    const t = Date.now();
    const ids = Array.from({ length: IDENTITIES }, (_, i) => `sa-ack-${i}`);
    const events = ids.flatMap((id) => [
      identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'acks', owner: 'o' }, { id: `c-${id}`, time: t }),
      identityEvent('entitlement.granted', id, { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/acks', access: 'read' }] }, { id: `g-${id}`, time: t }),
    ]);
    // In requests the broker accepts (signed events no longer fit 10,000 to a 1 MiB request).
    for (let i = 0; i < events.length; i += 1000) await fx.publish(events.slice(i, i + 1000));
    const snapshots = await fx.tail(['scopeSnapshots', 'enforcerAcks']);
    await waitFor(`${IDENTITIES} snapshots`, () => new Set(snapshots.of<{ identityId: string }>(fx.topics.scopeSnapshots).map((m) => m.value.identityId)).size >= IDENTITIES || undefined, 60_000, 200);

    const ackKey = generateSigningKeyPair(`gw-acks-${fx.id}-key`);
    enforcer = new Enforcer({
      brokers: ['127.0.0.1:9092'],
      registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      enforcerId: `gw-acks-${fx.id}`,
      ackSigningKey: parsePrivateKey(ackKey.kid, ackKey.privateKey),
      trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
      topicPrefix: fx.prefix,
      logger: fx.logger,
      flushIntervalMs: 200,
    });
    await enforcer.start();
    await enforcer.ready;
    const acked = (): Set<string> => new Set(snapshots.of<EnforcerAck>(fx.topics.enforcerAcks).flatMap((m) => m.value.applied.map((a) => a.identityId)));
    await waitFor('every identity acknowledged', () => acked().size >= IDENTITIES || undefined, 60_000, 200);
    const messages = snapshots.of<EnforcerAck>(fx.topics.enforcerAcks);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...messages.map((m) => m.raw.length))).toBeLessThan(1024 * 1024);
    expect(enforcer.stats.rejected).toBe(0);
    // What the control plane would check: the enforcer's own signature, bound to the acks topic and its id.
    const verifier = new CommandVerifier([parsePublicKey(ackKey.kid, ackKey.publicKey)]);
    for (const m of messages) expect(verifier.check(fx.topics.enforcerAcks, m.key ?? null, m.raw, m.headers)).toEqual({ kid: ackKey.kid, epoch: 1 });
    expect(new Set(messages.map((m) => m.key))).toEqual(new Set([`gw-acks-${fx.id}`]));
    await snapshots.stop();
  });
});
