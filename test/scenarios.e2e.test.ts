import type { DriftAlert, LivescopeEventInput, Revocation, ScopeChange } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { PipelineFixture, WorkerProcess, waitFor, type TopicTail } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplePolicyFiles, play, releaseManager } from './support/ScenarioRunner.js';


/**
 * The seed scenarios of DESIGN.md, end to end over the real broker: the simulator's scenario
 * scripts go onto Kafka, a scope-worker process applies the example Cedar policies, and an
 * enforcer (the SDK) decides. Time is compressed: a scenario "minute" lasts MINUTE ms.
 */
const MINUTE = 2000;
let fx: PipelineFixture;
let worker: WorkerProcess;
let enforcer: Enforcer;
let tail: TopicTail;
const signer = releaseManager();

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  tail = await fx.tail(['scopeChanges', 'revocations', 'driftAlerts']);
  worker = new WorkerProcess('scenario-worker', fx.workerEnv({ LIVESCOPE_RELEASE_SIGNERS: signer.env, LIVESCOPE_TIMER_RESOLUTION_MS: '50' })).start();
  await waitFor('the worker to register its schemas', async () => (await fx.registry.loadSubjectIds(`${fx.topics.enforcerAcks}-value`)).size > 0, 60_000, 200);
  const files = examplePolicyFiles();
  const now = Date.now();
  await fx.publish([{ specversion: '1.0', id: `policies-${now}`, type: 'policies.published', source: 'test', time: new Date(now).toISOString(), data: { version: 1, policies: files, publishedBy: 'platform-team' } }]);
  enforcer = new Enforcer({
    brokers: ['127.0.0.1:9092'],
    registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    enforcerId: `gw-${fx.id}`,
    trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
    topicPrefix: fx.prefix,
    logger: fx.logger,
    requireSession: false,
    flushIntervalMs: 300,
  });
  await enforcer.start();
  await enforcer.ready;
});

afterAll(async () => {
  await enforcer?.stop();
  await worker?.stop();
  if (process.env.LIVESCOPE_TEST_LOG_LEVEL) process.stdout.write(worker.logs.join('\n'));
  await fx?.close();
});

const allowed = (id: string, action: string, resource: string, session?: string): boolean => enforcer.authorize(id, session, action, resource).allowed;
const until = (what: string, cond: () => boolean, ms = 10_000): Promise<true> => waitFor(what, () => cond() || undefined, ms, 10);
const changesOf = (id: string): ScopeChange[] => tail.of<ScopeChange>(fx.topics.scopeChanges).map((m) => m.value).filter((c) => c.identityId === id);
const revocationsOf = (id: string): Revocation[] => tail.of<Revocation>(fx.topics.revocations).map((m) => m.value).filter((r) => r.identityId === id);
const alertsOf = (id: string): DriftAlert[] => tail.of<DriftAlert>(fx.topics.driftAlerts).map((m) => m.value).filter((a) => a.identityId === id);

describe('seed scenarios end to end', () => {
  it('1. a CI/CD agent deploys only during a signed release window, only to its namespace; the window closes with no further event', async () => {
    const deploy = (id: string) => allowed(id, 'k8s:deploy', 'k8s/checkout/deployments');
    const s = await play(fx, 'release-window', MINUTE, signer, async (i, sc) => {
      const id = sc.identityId;
      if (i === 0) {
        await until('the CI job to be known', () => allowed(id, 'k8s:read', 'k8s/checkout/deployments'));
        expect(deploy(id)).toBe(false);
      }
      if (i === 1) {
        await until('deploy to open with the window', () => deploy(id), 3 * MINUTE);
        expect(allowed(id, 'k8s:deploy', 'k8s/payments/deployments')).toBe(false);
      }
      if (i === 2) await until('deploy to close', () => !deploy(id));
    });
    const closing = await waitFor('the timer narrowing', () => changesOf(s.identityId).find((c) => c.direction === 'narrowing' && c.cause.timer));
    expect(closing.removed.map((r) => r.action)).toEqual(['k8s:deploy']);
    expect(closing.removed[0]!.cause.policyIds).toEqual(['release-window']);
  });

  it('2. a chatbot gets secret retrieval only after a human approves, for the approval TTL', async () => {
    const s = await play(fx, 'escalation', MINUTE, signer, async (i, sc) => {
      const id = sc.identityId;
      if (i === 0) {
        await until('tickets to be readable', () => allowed(id, 'tickets:read', 'tickets/support'));
        expect(allowed(id, 'secrets:read', 'secret/support/kb')).toBe(false);
        expect(enforcer.authorize(id, undefined, 'secrets:read', 'secret/support/kb').code).toBe('not-in-scope');
      }
      if (i === 1) await until('secret retrieval after the approval', () => allowed(id, 'secrets:read', 'secret/support/kb'));
      if (i === 2) await until('secret retrieval to end with the TTL', () => !allowed(id, 'secrets:read', 'secret/support/kb'));
    });
    const ended = changesOf(s.identityId).find((c) => c.removed.some((r) => r.action === 'secrets:read'));
    expect(ended?.cause.timer).toBe(true);
    expect(ended?.removed[0]?.cause.policyIds).toEqual(['escalation']);
  });

  it('3. a database workload is read-only while an incident order is active, restored when lifted and when it expires', async () => {
    const write = (id: string) => allowed(id, 'db:write', 'db/payments');
    const s = await play(fx, 'incident-read-only', MINUTE, signer, async (i, sc) => {
      const id = sc.identityId;
      if (i === 0) await until('writes at first', () => write(id));
      if (i === 1) {
        await until('read-only under the order', () => !write(id));
        expect(allowed(id, 'db:read', 'db/payments')).toBe(true);
      }
      if (i === 2) await until('writes back after the lift', () => write(id));
      if (i === 3) await until('read-only under the second order', () => !write(id));
      if (i === 4) await until('writes back after the second order expired', () => write(id));
    });
    const changes = changesOf(s.identityId);
    expect(changes.map((c) => c.direction)).toEqual(['widening', 'narrowing', 'widening', 'narrowing', 'widening']);
    expect(changes[1]!.cause).toMatchObject({ eventType: 'order.issued', actor: 'responder@example.com' });
    expect(changes[4]!.cause.timer).toBe(true);
  });

  it('4. just-in-time vault access: session, token and lease revoked when the task completes', async () => {
    const s = await play(fx, 'jit-vault', MINUTE, signer, async (i, sc) => {
      const id = sc.identityId;
      const sid = `sess-${fx.id}-jit-vault`;
      if (i === 1) await until('vault access in the session', () => allowed(id, 'vault:read', 'secret/data/export', sid));
      if (i === 2) {
        await until('vault access to end with the task', () => !allowed(id, 'vault:read', 'secret/data/export', sid));
        expect(enforcer.authorize(id, sid, 'vault:read', 'secret/data/export').code).toBe('session-not-active');
      }
    });
    const revoked = await waitFor('three revocations', () => {
      const r = revocationsOf(s.identityId);
      return r.length >= 3 ? r : undefined;
    });
    expect(revoked.map((r) => `${r.target.type}@${r.target.system}`)).toEqual(['session@idp', 'token@idp', 'lease@vault']);
  });

  it('4b. just-in-time vault access: the five minutes pass with no event — session and lease revoked by the timer', async () => {
    const id = `sa-expiry-${fx.id}`;
    const t = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    await fx.publish([
      { specversion: '1.0', id: `${id}/1`, type: 'identity.created', source: 'test', time: iso(t), subject: id, data: { kind: 'service-account', name: id, namespace: 'data', owner: 'team-data' } },
      { specversion: '1.0', id: `${id}/2`, type: 'session.started', source: 'test', time: iso(t), subject: id, data: { sessionId: 'sx', system: 'idp' } },
      { specversion: '1.0', id: `${id}/3`, type: 'jit.granted', source: 'test', time: iso(t), subject: id, data: { grantId: 'jx', sessionId: 'sx', expiresAt: iso(t + 2500), permissions: [{ action: 'vault:read', resource: 'secret/x', access: 'read' }] } },
      { specversion: '1.0', id: `${id}/4`, type: 'secret.lease-created', source: 'test', time: iso(t), subject: id, data: { leaseId: 'lx', secretPath: 'secret/x', sessionId: 'sx', expiresAt: iso(t + 600_000) } },
    ] as LivescopeEventInput[]);
    await until('vault access', () => allowed(id, 'vault:read', 'secret/x', 'sx'));
    await until('expiry', () => !allowed(id, 'vault:read', 'secret/x', 'sx'));
    const revoked = await waitFor('the timer revocations', () => {
      const r = revocationsOf(id);
      return r.length >= 2 ? r : undefined;
    });
    expect(revoked.map((r) => r.target.id)).toEqual(['sx', 'lx']);
    expect(revoked[0]!.cause.timer).toBe(true);
  });

  it('5. an orchestrated agent invokes its tool chain; anything else is denied at the enforcer and raised as drift', async () => {
    const s = await play(fx, 'tool-chain', MINUTE, signer, async (i, sc) => {
      const id = sc.identityId;
      const sid = `s-${fx.id}-tool-chain`;
      if (i === 0) await until('the tool chain', () => allowed(id, 'tool:invoke', 'tools/support/chain', sid));
      if (i === 1) {
        expect(enforcer.authorize(id, sid, 'console:admin', 'admin-console')).toMatchObject({ allowed: false, code: 'not-in-scope' });
        expect(enforcer.authorize(id, sid, 'db:read', 'db/support')).toMatchObject({ allowed: false, code: 'not-in-scope' });
      }
    });
    // Attempts are reported in aggregated windows: collect them over every out-of-scope alert of the agent.
    const attempted = (): Set<string> => new Set(alertsOf(s.identityId).filter((a) => a.type === 'out-of-scope-attempt').flatMap((a) => (a.details.attempts as { action: string }[]).map((x) => x.action)));
    await waitFor('out-of-scope drift alerts for both attempts', () => (attempted().has('console:admin') && attempted().has('db:read')) || undefined);
    expect(alertsOf(s.identityId).find((a) => a.type === 'out-of-scope-attempt')?.severity).toMatch(/medium|high/);
  });

  it('a replayed token revokes the session and raises risk, which removes writes', async () => {
    const s = await play(fx, 'token-replay', MINUTE, signer, async (i, sc) => {
      if (i === 0) await until('writes', () => allowed(sc.identityId, 'db:write', 'db/payments'));
      if (i === 1) await until('writes removed by risk', () => !allowed(sc.identityId, 'db:write', 'db/payments'));
    });
    expect(allowed(s.identityId, 'db:read', 'db/payments')).toBe(true);
    await waitFor('the revocations', () => revocationsOf(s.identityId).length >= 2 || undefined);
    expect(revocationsOf(s.identityId).map((r) => r.target.type)).toEqual(['session', 'token']);
    expect(alertsOf(s.identityId).map((a) => a.type)).toContain('token-replay');
  });

  it('a leaked secret revokes every lease of it', async () => {
    await play(fx, 'leaked-secret', MINUTE, signer);
    const ids = [`svc-a-${fx.id}-leaked-secret`, `svc-b-${fx.id}-leaked-secret`];
    for (const id of ids) {
      const r = await waitFor(`the lease revocation of ${id}`, () => revocationsOf(id).find((x) => x.target.type === 'lease'));
      expect(r.reason).toMatch(/leaked/);
    }
  });

  it('an offboarded identity loses all scope at once', async () => {
    const s = await play(fx, 'offboarding', MINUTE, signer, async (i, sc) => {
      if (i === 0) await until('its access', () => allowed(sc.identityId, 'db:write', 'db/checkout'));
      if (i === 1) await until('no access', () => !allowed(sc.identityId, 'db:read', 'db/checkout'));
    });
    expect(enforcer.authorize(s.identityId, undefined, 'db:read', 'db/checkout').code).toBe('inactive-identity');
    const last = changesOf(s.identityId).at(-1)!;
    expect(last).toMatchObject({ status: 'deleted', permissions: [] });
  });
});
