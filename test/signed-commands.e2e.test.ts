import { encodeWireJson, identityEvent, type DriftAlert, type ScopeChange } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { PipelineFixture, WorkerProcess, waitFor } from '@livescope/testkit';
import { CommandSigner, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 5: signed commands and fail-closed. A forged widening on the topic has no effect; unsigned,
 * forged, unknown-key, moved (signed for another topic or identity) and replayed-old-version
 * commands are rejected and alerted; an enforcer that hears nothing for maxStalenessMs denies
 * sensitive actions and says why.
 */
let fx: PipelineFixture;
let worker: WorkerProcess;
let enforcer: Enforcer;
const rejected: string[] = [];
const id = 'sa-signed';

beforeAll(async () => {
  fx = await new PipelineFixture(2).open();
  worker = new WorkerProcess('signed-worker', fx.workerEnv({ LIVESCOPE_HEARTBEAT_INTERVAL_MS: '200' })).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  enforcer = new Enforcer({
    brokers: ['127.0.0.1:9092'],
    registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    enforcerId: `gw-${fx.id}`,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
    sensitiveActions: ['db:read'],
    maxStalenessMs: 2000,
    onRejected: (reason) => rejected.push(reason),
  });
  await enforcer.start();
  await enforcer.ready;
});

afterAll(async () => {
  await enforcer?.stop();
  await worker?.stop();
  await fx?.close();
});

describe('signed commands', () => {
  it('a forged widening has no effect; unsigned, forged, unknown-key and replayed commands are rejected and alerted', async () => {
    const tail = await fx.tail(['scopeChanges', 'driftAlerts']);
    const t = Date.now();
    await fx.publish([
      identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'pay', owner: 'o' }, { id: 'c1', time: t }),
      identityEvent('session.started', id, { sessionId: 's1' }, { id: 'c2', time: t }),
      identityEvent('entitlement.granted', id, { grantId: 'g1', role: 'reader', permissions: [{ action: 'db:read', resource: 'db/pay', access: 'read' }] }, { id: 'c3', time: t }),
    ]);
    await waitFor('db:read to be allowed', () => enforcer.authorize(id, 's1', 'db:read', 'db/pay').allowed);
    await fx.publish([identityEvent('entitlement.granted', id, { grantId: 'g2', role: 'reader2', permissions: [{ action: 'db:read', resource: 'db/other', access: 'read' }] }, { id: 'c4', time: t })]);
    await waitFor('the second grant', () => enforcer.authorize(id, 's1', 'db:read', 'db/other').allowed);
    const real = tail.of<ScopeChange>(fx.topics.scopeChanges).filter((m) => m.value.identityId === id);
    const latest = real[real.length - 1]!.value;

    const forged: ScopeChange = { ...latest, version: latest.version + 10, previousVersion: latest.version, direction: 'widening', permissions: [...latest.permissions, { action: 'db:write', resource: 'db/pay', access: 'write', validUntil: null, grants: ['g1'] }], added: [{ action: 'db:write', resource: 'db/pay', access: 'write', validUntil: null, cause: {} }], removed: [] };
    const schemaId = (await fx.registry.loadSubjectIds(`${fx.topics.scopeChanges}-value`)).values().next().value!;
    const value = encodeWireJson(schemaId, forged);
    const attacker = generateSigningKeyPair(fx.keys.kid); // same key id, different key
    const stranger = generateSigningKeyPair('someone-else');
    const oldReal = real[0]!;
    const latestReal = real[real.length - 1]!;
    const sign = (k: { kid: string; privateKey: string }, topic: string, key: string, v: Buffer) => new CommandSigner(parsePrivateKey(k.kid, k.privateKey)).headers(topic, key, v);
    await fx.producer.send({
      topic: fx.topics.scopeChanges,
      messages: [
        { key: id, value }, // unsigned
        { key: id, value, headers: sign(attacker, fx.topics.scopeChanges, id, value) }, // forged signature
        { key: id, value, headers: sign(stranger, fx.topics.scopeChanges, id, value) }, // unknown key
        { key: id, value: oldReal.raw, headers: oldReal.headers }, // a genuine but old command, replayed
      ],
    });
    // A genuine command moved: the latest change, presented as a snapshot.
    await fx.producer.send({ topic: fx.topics.scopeSnapshots, messages: [{ key: id, value: latestReal.raw, headers: latestReal.headers }] });
    await waitFor('five rejections', () => rejected.length >= 5 || undefined, 15_000);
    expect(rejected.join('\n')).toMatch(/not signed/);
    expect(rejected.join('\n')).toMatch(/signature by .* does not match the command on .*scope\.changes/);
    expect(rejected.join('\n')).toMatch(/unknown key id someone-else/);
    expect(rejected.join('\n')).toMatch(new RegExp(`rollback refused: version ${oldReal.value.version} of ${id}`));
    // Genuine commands are signed per batch (Merkle proof): moved, the proof no longer leads to a signed root.
    expect(rejected.join("\n")).toMatch(/(does not match|does not cover) the command on .*scope\.snapshots/);
    expect(enforcer.authorize(id, 's1', 'db:write', 'db/pay')).toMatchObject({ allowed: false, code: 'not-in-scope' });
    expect(enforcer.authorize(id, 's1', 'db:read', 'db/other').allowed).toBe(true);
    const alerts = await waitFor('rejected-command alerts', () => {
      const a = tail.of<DriftAlert>(fx.topics.driftAlerts).filter((m) => m.value.type === 'rejected-command');
      return a.length >= 5 ? a : undefined;
    });
    expect(alerts[0]!.value).toMatchObject({ severity: 'critical', enforcerId: `gw-${fx.id}` });
    expect(alerts.map((a) => a.value.details.code).sort()).toEqual(['SIGNATURE_INVALID', 'SIGNATURE_INVALID', 'SIGNATURE_MISSING', 'UNKNOWN_KEY_ID', 'VERSION_ROLLBACK']);
  });

  it('fails closed for sensitive actions when the pipeline goes silent, and says so', async () => {
    expect(enforcer.authorize(id, 's1', 'db:read', 'db/pay').allowed).toBe(true);
    await worker.stop();
    const d = await waitFor('a fail-closed denial', () => {
      const x = enforcer.authorize(id, 's1', 'db:read', 'db/pay');
      return x.allowed ? undefined : x;
    }, 15_000, 100);
    expect(d.code).toBe('stale');
    expect(d.reason).toMatch(/fail-closed/);
  });
});
