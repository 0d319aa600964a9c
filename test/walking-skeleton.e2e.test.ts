import { identityEvent, type Revocation } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { PipelineFixture, WorkerProcess, waitFor } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';


/**
 * Issue 2's end-to-end acceptance over the real broker: a service account receives a
 * just-in-time grant and opens a session; when its task completes, the enforcer denies within a
 * bounded wait and a revocation command for that session is on the revocation topic.
 */
let fx: PipelineFixture;
let worker: WorkerProcess;
let enforcer: Enforcer;

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  worker = new WorkerProcess('e2e-worker', fx.workerEnv()).start();
  enforcer = new Enforcer({
    brokers: ['127.0.0.1:9092'],
    registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    enforcerId: `gw-${fx.id}`,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
  });
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  await enforcer.start();
  await enforcer.ready;
});

afterAll(async () => {
  await enforcer?.stop();
  await worker?.stop();
  if (worker && process.env.LIVESCOPE_TEST_LOG_LEVEL) process.stdout.write(worker.logs.join('\n'));
  await fx?.close();
});

describe('walking skeleton: just-in-time access ends with the task', () => {
  it('the enforcer allows during the task, denies after it, and the session revocation is on its topic', async () => {
    const tail = await fx.tail(['revocations']);
    const t = Date.now();
    const sa = `sa-e2e-${fx.id}`;
    await fx.publish([
      identityEvent('identity.created', sa, { kind: 'service-account', name: sa, namespace: 'data', owner: 'team-data' }, { id: `${sa}/1`, time: t }),
      identityEvent('session.started', sa, { sessionId: 's-1', task: 'export', system: 'idp' }, { id: `${sa}/2`, time: t }),
      identityEvent('jit.granted', sa, { grantId: 'jit-1', sessionId: 's-1', expiresAt: new Date(t + 300_000).toISOString(), permissions: [{ action: 'vault:read', resource: 'secret/data/export', access: 'read' }] }, { id: `${sa}/3`, time: t }),
    ]);
    await waitFor('the enforcer to allow', () => enforcer.authorize(sa, 's-1', 'vault:read', 'secret/data/export').allowed, 20_000);

    const completedAt = Date.now();
    await fx.publish([identityEvent('session.task-completed', sa, { sessionId: 's-1' }, { id: `${sa}/4`, time: completedAt })]);
    const denied = await waitFor('the enforcer to deny', () => {
      const d = enforcer.authorize(sa, 's-1', 'vault:read', 'secret/data/export');
      return d.allowed ? undefined : d;
    }, 10_000, 5);
    const lagMs = Date.now() - completedAt;
    process.stdout.write(`task completion → enforcer denial: ${lagMs} ms (${denied.code}: ${denied.reason})\n`);
    expect(lagMs).toBeLessThan(10_000);
    const rev = await waitFor('the session revocation', () => tail.of<Revocation>(fx.topics.revocations).find((m) => m.value.identityId === sa && m.value.target.type === 'session'));
    expect(rev.value).toMatchObject({ target: { type: 'session', id: 's-1', system: 'idp' }, reason: 'task completed' });
  });
});
