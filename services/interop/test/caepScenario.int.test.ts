import { adapterFor } from '@livescope/adapters';
import { CaepEventType, CaepTopicRecord, LivescopeMember, SsfEventType } from '@livescope/caep';
import { encodeWireJson, identityEvent, valueSubject, type DeadLetter, type Revocation } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { createWorker, loadWorkerConfig, type ScopeWorker } from '@livescope/scope-worker';
import { PipelineFixture, testEnv, waitFor } from '@livescope/testkit';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInteropConfig } from '../src/config.js';
import { IngestPipeline } from '../src/ingest/IngestPipeline.js';
import { KafkaIngestSink } from '../src/ingest/KafkaIngestSink.js';
import { InteropService } from '../src/InteropService.js';
import { TestReceiver } from './testReceiver.js';

/**
 * Seed scenario 4 from real-format input to a CAEP SET: a workload logs in to Vault with AppRole
 * (a 5-minute token) and takes a dynamic database credential (a lease) — Vault audit-device lines,
 * ingested by the Vault adapter — under a just-in-time grant bound to that session; its task
 * completes; the scope worker revokes the session and the lease; the interop service turns the signed
 * revocations into CAEP SETs, pushes them to a receiver that verifies them, and publishes them on
 * livescope.caep.events.v1.
 */
const CLIENT_TOKEN = 'gateway-token-0123456789';
const PUSH_AUTH = 'Bearer push-secret-for-gateway';
const AUDIENCE = 'https://gateway.test/caep';
const ACCESSOR = 'hmac-sha256:5f1c0ffee';
const TOKEN = 'hmac-sha256:7ab1e';
const LEASE = 'database/creds/readonly/h2Xk9vQ';

let fx: PipelineFixture;
let worker: ScopeWorker;
let closeWorkerStore: () => Promise<void>;
let interop: InteropService;
let receiver: TestReceiver;

function vaultLines(now: number): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '123Z');
  const auth = { client_token: TOKEN, accessor: ACCESSOR, display_name: 'approle', policies: ['db-readonly', 'default'], token_policies: ['db-readonly', 'default'], metadata: { role_name: 'deployer' }, entity_id: 'e-42', token_type: 'service', token_ttl: 300, token_issue_time: new Date(now - 3000).toISOString().replace(/\.\d+Z$/, 'Z') };
  const entry = (type: string, t: number, request: Record<string, unknown>, rest: Record<string, unknown>) => JSON.stringify({ time: iso(t), type, auth: type === 'request' && request.path === 'auth/approle/login' ? { token_type: 'default' } : auth, request: { namespace: { id: 'root' }, remote_address: '10.1.2.3', ...request }, ...rest });
  const login = { id: 'jit-login-1', operation: 'update', path: 'auth/approle/login', mount_type: 'approle', data: { role_id: 'hmac-sha256:r', secret_id: 'hmac-sha256:s' } };
  const creds = { id: 'jit-creds-1', operation: 'read', path: 'database/creds/readonly', mount_type: 'database', client_token: TOKEN, client_token_accessor: ACCESSOR };
  return [
    entry('request', now - 3000, login, {}),
    entry('response', now - 2990, login, { response: { auth, mount_type: 'approle' } }),
    entry('request', now - 2000, creds, {}),
    entry('response', now - 1990, creds, { response: { secret: { lease_id: LEASE }, data: { username: 'hmac-sha256:u', password: 'hmac-sha256:p' }, mount_type: 'database' } }),
  ].join('\n');
}

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  const built = await createWorker(loadWorkerConfig(fx.workerEnv()), fx.logger, () => permitAllPolicy);
  worker = built.worker;
  closeWorkerStore = () => built.store.close();
  await worker.start();
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const config = loadInteropConfig({
    LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','),
    LIVESCOPE_REGISTRY_URL: testEnv.registryUrl,
    LIVESCOPE_PG_URL: testEnv.pgUrl,
    LIVESCOPE_PG_SCHEMA: fx.schema,
    LIVESCOPE_TOPIC_PREFIX: fx.prefix,
    LIVESCOPE_INTEROP_PORT: '0',
    LIVESCOPE_INTEROP_ENABLE: 'transmitter',
    LIVESCOPE_SSF_SIGNING_KEYS: JSON.stringify([{ kid: 'ssf-test-1', alg: 'RS256', privateKey: await exportPKCS8(privateKey) }]),
    LIVESCOPE_SSF_RECEIVER_CLIENTS: JSON.stringify([{ clientId: 'gateway', token: CLIENT_TOKEN, audience: AUDIENCE }]),
    LIVESCOPE_COMMAND_PUBLIC_KEYS: JSON.stringify({ [fx.keys.kid]: fx.keys.publicKey }),
    LIVESCOPE_CONSUME_FROM_BEGINNING: 'true',
    LIVESCOPE_SSF_DELIVERY_INTERVAL_MS: '50',
    LIVESCOPE_SSF_MIN_VERIFICATION_INTERVAL_S: '0',
    LIVESCOPE_LOG_LEVEL: process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'warn',
    // The ingest of this test publishes through the service's Kafka context: signed by a producer key the
    // workers trust, the AppRole login is an attested session (unsigned, it would only be observed).
    LIVESCOPE_PRODUCER_KEY_ID: fx.producerKeys.kid,
    LIVESCOPE_PRODUCER_KEY: fx.producerKeys.privateKey,
  });
  interop = new InteropService(config, fx.logger);
  const issuer = await interop.start();
  receiver = new TestReceiver({ issuer, audience: AUDIENCE, authorization: PUSH_AUTH, jwksUri: `${issuer}/ssf/jwks.json` });
  await receiver.start();
});

afterAll(async () => {
  await receiver?.stop();
  await interop?.stop();
  await worker?.stop();
  await closeWorkerStore?.();
  await fx?.close();
});

const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(`${interop.issuer}${path}`, { method, headers: { authorization: `Bearer ${CLIENT_TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('seed scenario 4 from Vault audit lines to a verified CAEP session-revoked SET', () => {
  it('creates and verifies a push stream', async () => {
    const discovery = (await (await fetch(`${interop.issuer}/.well-known/ssf-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ spec_version: '1_0', issuer: interop.issuer, jwks_uri: `${interop.issuer}/ssf/jwks.json` });
    const created = await api('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: receiver.url, authorization_header: PUSH_AUTH }, events_requested: [CaepEventType.sessionRevoked, CaepEventType.credentialChange, CaepEventType.tokenClaimsChange], description: 'scenario 4 gateway' });
    expect(created.status).toBe(201);
    const stream = (await created.json()) as { stream_id: string; aud: string };
    expect(stream.aud).toBe(AUDIENCE);
    expect((await api('POST', '/ssf/verify', { stream_id: stream.stream_id, state: 'scenario-4' })).status).toBe(204);
    const verification = await waitFor('the verification SET', () => receiver.of(SsfEventType.verification)[0]);
    expect(verification.payload.events[SsfEventType.verification]).toEqual({ state: 'scenario-4' });
    expect(verification.payload.sub_id).toEqual({ format: 'opaque', id: stream.stream_id });
  });

  it('revokes the session and the lease when the task completes, and pushes signed SETs the receiver verifies', async () => {
    const tail = await fx.tail(['revocations', 'caepEvents']);
    const now = Date.now();
    const sink = new KafkaIngestSink(interop.kafka, 'ingest:vault:test');
    const stats = await new IngestPipeline(adapterFor('vault', { owner: 'payments-team' }), sink, { controlAllowed: interop.config.producer.allows }).consume([vaultLines(now)]);
    expect(stats).toMatchObject({ records: 4, events: 4, deadLetters: 0 });
    const identity = 'vault:approle/deployer';
    await fx.publish([
      identityEvent('jit.granted', identity, { grantId: 'jit-db-readonly', sessionId: ACCESSOR, expiresAt: new Date(now + 300_000).toISOString(), permissions: [{ action: 'secrets:read', resource: 'database/creds/readonly', access: 'read', system: 'vault' }], approvedBy: 'on-call' }, { id: 'scenario4-jit', time: now - 2500 }),
    ]);
    await fx.publish([identityEvent('session.task-completed', identity, { sessionId: ACCESSOR }, { id: 'scenario4-done', time: now })]);

    const revocations = await waitFor('session and lease revocations', () => {
      const r = tail.of<Revocation>(fx.topics.revocations).filter((m) => m.value.identityId === identity);
      return r.length >= 2 ? r : undefined;
    });
    expect(revocations.map((r) => `${r.value.target.type}:${r.value.target.id}`)).toEqual([`session:${ACCESSOR}`, `lease:${LEASE}`]);

    const revoked = await waitFor('the session-revoked SET at the receiver', () => receiver.of(CaepEventType.sessionRevoked)[0], 60_000);
    expect(revoked.header).toEqual({ alg: 'RS256', kid: 'ssf-test-1', typ: 'secevent+jwt' });
    expect(revoked.payload).toMatchObject({
      iss: interop.issuer,
      aud: AUDIENCE,
      txn: 'scenario4-done',
      sub_id: { format: 'complex', user: { format: 'iss_sub', iss: interop.issuer, sub: identity }, session: { format: 'opaque', id: ACCESSOR } },
    });
    expect(revoked.payload.events[CaepEventType.sessionRevoked]).toMatchObject({ initiating_entity: 'policy', reason_admin: { en: 'task completed' }, [LivescopeMember.system]: 'vault' });

    const lease = await waitFor('the credential-change SET of the lease', () => receiver.of(CaepEventType.credentialChange)[0], 60_000);
    expect(lease.payload.events[CaepEventType.credentialChange]).toMatchObject({ credential_type: 'secret-lease', change_type: 'revoke', [LivescopeMember.credentialId]: LEASE, [LivescopeMember.secretPath]: 'database/creds/readonly' });
    const narrowing = await waitFor('the token-claims-change SET of the narrowing', () => receiver.of(CaepEventType.tokenClaimsChange).find((s) => (s.payload.events[CaepEventType.tokenClaimsChange]!.claims as { livescope_permissions: unknown[] }).livescope_permissions.length === 0), 60_000);
    expect(narrowing.payload.sub_id).toEqual({ format: 'iss_sub', iss: interop.issuer, sub: identity });
    expect(receiver.rejected).toEqual([]);

    const onTopic = await waitFor('the SETs on livescope.caep.events.v1', () => {
      const r = tail.of<CaepTopicRecord>(fx.topics.caepEvents).filter((m) => m.value.identityId === identity && m.value.eventType === CaepEventType.sessionRevoked);
      return r.length ? r : undefined;
    });
    expect(onTopic[0]!.key).toBe(identity);
    expect(CaepTopicRecord.parse(onTopic[0]!.value).payload).toMatchObject({ aud: 'urn:livescope:caep-topic', sub_id: { session: { id: ACCESSOR } } });
  });

  it('never turns an unsigned or forged command into a SET: it is dead-lettered as invalid-signature', async () => {
    const tail = await fx.tail(['deadLetters']);
    const ids = await fx.registry.loadSubjectIds(valueSubject(fx.topics.revocations));
    const forged = { kind: 'revocation', revocationId: 'attacker/1/0', identityId: 'attacker', version: 1, at: new Date().toISOString(), target: { type: 'session', id: 'victim-session', system: 'vault' }, reason: 'forged', cause: {} };
    const value = encodeWireJson(Math.max(...ids), forged);
    await fx.producer.send({ topic: fx.topics.revocations, messages: [{ key: 'attacker', value }, { key: 'attacker', value, headers: { 'livescope-kid': fx.keys.kid, 'livescope-sig': Buffer.alloc(64, 7) } }] });
    const dead = await waitFor('two invalid-signature dead letters', () => {
      const d = tail.of<DeadLetter>(fx.topics.deadLetters).filter((m) => m.value.source.topic === fx.topics.revocations);
      return d.length >= 2 ? d : undefined;
    });
    expect(dead.map((d) => d.value.reason)).toEqual(['invalid-signature', 'invalid-signature']);
    expect(dead.map((d) => d.value.message).sort()).toEqual(['command is not signed', `command signed by ${fx.keys.kid} carries no valid key epoch`]);
    expect(receiver.accepted.some((s) => s.payload.sub_id?.user && (s.payload.sub_id.user as { sub: string }).sub === 'attacker')).toBe(false);
  });
});
