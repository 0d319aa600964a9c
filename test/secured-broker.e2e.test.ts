import { identityEvent, subjectSpecsFor, valueSubject } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { aclPlan, type Role } from '@livescope/infra/aclPlan';
import { applyAclPlan, removeAclPlan } from '@livescope/infra/provision-acls';
import { Store } from '@livescope/store';
import { PipelineFixture, testEnv, waitFor, WorkerProcess } from '@livescope/testkit';
import { createKafka, createProducer, ensureTopics, EventPublisher, parsePublicKey, ProducerSigner, type KafkaSecurityOptions } from '@livescope/transport';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, brokerErrorType, CA_FILE, clientLogger, kafkaAs as secureKafka, passwordFile, refused, SECURE_BROKERS as BROKERS, SUPER_USER } from './support/securedBroker.js';

const services = { superUser: SUPER_USER };
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * livescope against Kafka as users secure it: the secured broker of `infra/start.sh --secure`
 * (SASL_SSL with SCRAM-SHA-512, a local CA, StandardAuthorizer, no ACL means no access), with the
 * ACL plan of infra/aclPlan.ts applied for this test's own topic prefix. The broker refuses what a
 * role may not do; the pipeline works end to end with each process authenticated as its role.
 */
// The test's isolation (prefix, PostgreSQL schema, consumer group, signing key) comes from the
// testkit; its topics live on the secured broker, created here as the admin.
const fx = new PipelineFixture(3);
const plan = aclPlan({ topicPrefix: fx.prefix, workerGroupId: fx.groupId });
const clients: Array<{ disconnect: () => Promise<void> }> = [];
let admin: Admin;
let worker: WorkerProcess | undefined;
let enforcer: Enforcer | undefined;
let eventsSchemaId: number;

function kafkaAs(role: Role | 'admin', security: KafkaSecurityOptions = as(role)): Kafka {
  return secureKafka(role, fx.id, security);
}

async function producerAs(role: Role): Promise<Producer> {
  const p = createProducer(kafkaAs(role));
  clients.push(p);
  await p.connect();
  return p;
}

beforeAll(async () => {
  admin = kafkaAs('admin', as(services.superUser)).admin();
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(`the secured broker does not answer on ${BROKERS.join(',')} as ${services.superUser} (${(e as Error).message}); start it with: bash infra/start.sh --secure (the e2e global setup and scripts/test.mjs do)`, { cause: e });
  }
  await ensureTopics(admin, { prefix: fx.prefix, partitions: fx.partitions });
  const ids = await fx.registry.registerAll(subjectSpecsFor(fx.prefix));
  eventsSchemaId = ids.get(valueSubject(fx.topics.events))!.id;
  const applied = await applyAclPlan(admin, plan);
  say(`secured broker ${BROKERS.join(',')}: topics under ${fx.prefix}, ACL plan applied (${applied.created} ACLs created for ${plan.length} roles)`);
});

afterAll(async () => {
  await enforcer?.stop().catch(() => undefined);
  await worker?.stop();
  if (worker && process.env.LIVESCOPE_TEST_LOG_LEVEL) say(worker.logs.join('\n'));
  for (const c of clients) await c.disconnect().catch(() => undefined);
  if (!admin) return;
  // The default prefix's plan shares some consumer-group ACLs with this one: those stay.
  await removeAclPlan(admin, plan, aclPlan({ topicPrefix: '' })).catch(() => undefined);
  const mine = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(fx.prefix));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
  const s = await Store.open({ connectionString: testEnv.pgUrl, schema: fx.schema }).catch(() => undefined);
  await s?.query(`DROP SCHEMA IF EXISTS ${fx.schema} CASCADE`, [], 'drop test schema').catch(() => undefined);
  await s?.close();
});

describe('livescope on a TLS + SASL/SCRAM broker with the ACL plan', () => {
  it('(a) an enforcement point cannot write the events topic: the broker refuses it', async () => {
    const p = await producerAs('enforcer');
    // What the enforcer may write goes through, so the refusal below is the ACL, not the connection.
    await p.send({ topic: fx.topics.enforcerReports, acks: -1, messages: [{ key: 'probe', value: 'x' }] });
    const publisher = new EventPublisher(p, fx.topics.events, eventsSchemaId, fx.partitions);
    const sa = `sa-forged-${fx.id}`;
    const e = await refused('enforcer writing the events topic', () => publisher.publish([identityEvent('identity.created', sa, { kind: 'service-account', name: sa, namespace: 'x', owner: 'o' }, { id: `${sa}/1`, time: Date.now() })]));
    expect(brokerErrorType(e)).toBe('TOPIC_AUTHORIZATION_FAILED');
    say(`(a) enforcer (User:enforcer) → produce to ${fx.topics.events}: refused by the broker (${brokerErrorType(e)}); its own ${fx.topics.enforcerReports}: accepted`);
  });

  it('(b) ingest cannot write a scope-change topic: the broker refuses it', async () => {
    const p = await producerAs('interop');
    const e = await refused('interop writing scope changes', () => p.send({ topic: fx.topics.scopeChanges, acks: -1, messages: [{ key: `sa-${fx.id}`, value: '{"forged":true}' }] }));
    expect(brokerErrorType(e)).toBe('TOPIC_AUTHORIZATION_FAILED');
    say(`(b) ingest (User:interop) → produce to ${fx.topics.scopeChanges}: refused by the broker (${brokerErrorType(e)})`);
  });

  it('(c) a scope worker configured only by the LIVESCOPE_KAFKA_* variables turns a control-plane event into a scope change an enforcer applies', async () => {
    worker = new WorkerProcess(
      `secured-worker-${fx.id}`,
      fx.workerEnv({
        LIVESCOPE_KAFKA_BROKERS: BROKERS.join(','),
        LIVESCOPE_KAFKA_SSL: 'true',
        LIVESCOPE_KAFKA_SSL_CA_FILE: CA_FILE,
        LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        LIVESCOPE_KAFKA_SASL_USERNAME: 'scope-worker',
        LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: passwordFile('scope-worker'),
      }),
    ).start();
    enforcer = new Enforcer({
      brokers: BROKERS,
      ...as('enforcer'),
      registryUrl: testEnv.registryUrl,
      enforcerId: `gw-secured-${fx.id}`,
      trustedKeys: [parsePublicKey(fx.keys.kid, fx.keys.publicKey)],
      topicPrefix: fx.prefix,
      logger: fx.logger,
      // Today's SDK sends decision reports to the events topic, which the plan refuses to enforcers
      // by design; reports move to the enforcer reports topic with the SDK's rewrite.
      reportDecisions: false,
    });
    await enforcer.start();
    await enforcer.ready;
    const cp = await producerAs('control-plane');
    // Control events are applied only when signed by a producer key of the workers' keyring.
    const publisher = new EventPublisher(cp, fx.topics.events, eventsSchemaId, fx.partitions, ProducerSigner.fromConfig(fx.producerKeys.kid, fx.producerKeys.privateKey));
    const sa = `sa-secured-${fx.id}`;
    const t = Date.now();
    await publisher.publish([
      identityEvent('identity.created', sa, { kind: 'service-account', name: sa, namespace: 'data', owner: 'team-data' }, { id: `${sa}/1`, time: t }),
      identityEvent('session.started', sa, { sessionId: 's-1', task: 'export', system: 'idp' }, { id: `${sa}/2`, time: t }),
      identityEvent('jit.granted', sa, { grantId: 'jit-1', sessionId: 's-1', expiresAt: new Date(t + 300_000).toISOString(), permissions: [{ action: 'vault:read', resource: 'secret/data/export', access: 'read' }] }, { id: `${sa}/3`, time: t }),
    ]);
    // The worker's group join is part of the wait (a new group reads from the beginning).
    const decision = await waitFor(
      'the enforcer (as User:enforcer) to allow what the worker (as User:scope-worker) granted',
      () => {
        if (worker!.crashed) throw new Error(`the secured worker died: ${worker!.crashed}`);
        const d = enforcer!.authorize(sa, 's-1', 'vault:read', 'secret/data/export');
        return d.allowed ? d : undefined;
      },
      90_000,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; last worker log lines:\n${worker!.logs.slice(-15).join('\n')}`, { cause: e });
    });
    expect(decision.allowed).toBe(true);
    expect(enforcer.stats.rejected).toBe(0);
    say(`(c) control-plane (User:control-plane) → events; scope-worker (User:scope-worker, TLS + SCRAM from LIVESCOPE_KAFKA_*) → scope change; enforcer (User:enforcer) allowed after ${Date.now() - t} ms`);
  });

  it('(d) a wrong password and a plaintext client are refused at the TLS port with a clear error', async () => {
    const wrong = kafkaAs('enforcer', as('enforcer', 'not-the-password')).admin();
    const e1 = await refused('a wrong SCRAM password', () => wrong.connect());
    expect(e1.name).toBe('KafkaJSSASLAuthenticationError');
    expect(e1.message).toMatch(/SCRAM SHA512 authentication failed.*invalid credentials/i);
    say(`(d) enforcer with a wrong password → connect: refused by the broker (${e1.name}: ${e1.message})`);

    const plaintext = createKafka({ brokers: BROKERS, clientId: `secured-plaintext-${fx.id}`, logger: clientLogger, connectionTimeoutMs: 3000 }, { retry: { retries: 0 } }).admin();
    const e2 = await refused('a plaintext client', () => plaintext.connect());
    const chain = [e2.name, (e2.cause as Error | undefined)?.name].join(' ← ');
    expect(chain).toMatch(/KafkaJSConnectionClosedError|KafkaJSConnectionError|KafkaJSRequestTimeoutError/);
    say(`(d) plaintext client → ${BROKERS.join(',')}: refused by the broker, which closed the connection at the TLS handshake (${chain}: ${e2.message})`);
  });
});
