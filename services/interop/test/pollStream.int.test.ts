import { CaepEventType } from '@livescope/caep';
import { identityEvent, type LivescopeEventInput } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { createWorker, loadWorkerConfig, type ScopeWorker } from '@livescope/scope-worker';
import { PipelineFixture, testEnv, waitFor, type TopicTail } from '@livescope/testkit';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInteropConfig } from '../src/config.js';
import { InteropService } from '../src/InteropService.js';

/**
 * SSF beyond push, end to end over the real broker, registry and PostgreSQL: a livescope receiver
 * (instance "rx") discovers a livescope transmitter (instance "tx") from its configuration metadata,
 * gets an OAuth 2.0 access token with client credentials, creates a poll stream through the SSF 1.0
 * stream management API, verifies it, and polls (RFC 8936). A session the scope worker revokes on the
 * transmitter side arrives at the receiver as a verified session-revoked SET and is written back to
 * the events topic as `session.ended`; the receiver acknowledges it and the transmitter's outbox drains.
 */
const CLIENT_ID = 'receiver-b';
const CLIENT_SECRET = 'receiver-b-secret-0123456789';
const RECEIVER_AUD = 'https://rx.livescope.test/caep';

let fx: PipelineFixture;
let worker: ScopeWorker;
let closeWorkerStore: () => Promise<void>;
let tx: InteropService;
let rx: InteropService;
let tail: TopicTail;

const base = () => ({
  LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','),
  LIVESCOPE_REGISTRY_URL: testEnv.registryUrl,
  LIVESCOPE_PG_URL: testEnv.pgUrl,
  LIVESCOPE_PG_SCHEMA: fx.schema,
  LIVESCOPE_TOPIC_PREFIX: fx.prefix,
  LIVESCOPE_INTEROP_PORT: '0',
  LIVESCOPE_LOG_LEVEL: process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'warn',
});

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  tail = await fx.tail(['events']);
  const built = await createWorker(loadWorkerConfig(fx.workerEnv()), fx.logger, () => permitAllPolicy);
  worker = built.worker;
  closeWorkerStore = () => built.store.close();
  await worker.start();
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  tx = new InteropService(
    loadInteropConfig({
      ...base(),
      LIVESCOPE_INTEROP_ID: 'tx',
      LIVESCOPE_INTEROP_ENABLE: 'transmitter',
      LIVESCOPE_SSF_SIGNING_KEYS: JSON.stringify([{ kid: 'tx-key-1', alg: 'RS256', privateKey: await exportPKCS8(privateKey) }]),
      LIVESCOPE_COMMAND_PUBLIC_KEYS: JSON.stringify({ [fx.keys.kid]: fx.keys.publicKey }),
      LIVESCOPE_SSF_OAUTH_CLIENTS: JSON.stringify([{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: RECEIVER_AUD }]),
      LIVESCOPE_CONSUME_FROM_BEGINNING: 'true',
      LIVESCOPE_SSF_POLL_WAIT_MS: '1000',
      LIVESCOPE_SSF_MIN_VERIFICATION_INTERVAL_S: '0',
    }),
    fx.logger.child({ instance: 'tx' }),
  );
  const issuer = await tx.start();
  rx = new InteropService(
    loadInteropConfig({
      ...base(),
      LIVESCOPE_INTEROP_ID: 'rx',
      LIVESCOPE_INTEROP_ENABLE: 'receiver',
      LIVESCOPE_SSF_POLL_STREAMS: JSON.stringify([{ transmitter: issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, audience: RECEIVER_AUD, description: 'rx poll stream', retryMs: 200 }]),
      LIVESCOPE_PRODUCER_KEY_ID: fx.producerKeys.kid,
      LIVESCOPE_PRODUCER_KEY: fx.producerKeys.privateKey,
    }),
    fx.logger.child({ instance: 'rx' }),
  );
  await rx.start();
});

afterAll(async () => {
  await rx?.stop();
  await tx?.stop();
  await worker?.stop();
  await closeWorkerStore?.();
  await fx?.close();
});

describe('a livescope receiver polls a livescope transmitter through the stream management API', () => {
  it('creates its poll stream with client credentials and verifies it', async () => {
    const poller = rx.pollReceivers[0]!;
    await waitFor('the poll receiver to create its stream', () => poller.streamId, 30_000);
    // The stream exists at the transmitter, owned by the OAuth client, delivered by poll.
    const token = await fetch(`${tx.issuer}/ssf/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` }, body: 'grant_type=client_credentials' });
    const { access_token } = (await token.json()) as { access_token: string };
    const streams = (await (await fetch(`${tx.issuer}/ssf/streams`, { headers: { authorization: `Bearer ${access_token}` } })).json()) as Record<string, unknown>[];
    expect(streams).toMatchObject([{ stream_id: poller.streamId, iss: tx.issuer, aud: RECEIVER_AUD, delivery: { method: 'urn:ietf:rfc:8936', endpoint_url: `${tx.issuer}/ssf/poll/${poller.streamId}` }, description: 'rx poll stream' }]);
    expect((streams[0]!.events_delivered as string[]).includes(CaepEventType.sessionRevoked)).toBe(true);
    await waitFor('the verification SET with the requested state', () => poller.verifiedStates.length === 1, 30_000);
  });

  it('receives the session-revoked SET of a revocation by polling, writes session.ended to Kafka, and acknowledges it', async () => {
    const identity = 'vault:approle/poll-e2e';
    const now = Date.now();
    await fx.publish([
      identityEvent('identity.created', identity, { kind: 'workload', name: 'poll-e2e', namespace: 'root', owner: 'platform' }, { id: 'poll-e2e-created', time: now - 3000 }),
      identityEvent('session.started', identity, { sessionId: 'poll-session-1', task: 'deploy', system: 'vault', expiresAt: new Date(now + 600_000).toISOString() }, { id: 'poll-e2e-session', time: now - 2000 }),
    ]);
    await fx.publish([identityEvent('session.task-completed', identity, { sessionId: 'poll-session-1' }, { id: 'poll-e2e-done', time: now })]);
    const ended = await waitFor(
      'session.ended from the poll receiver on the events topic',
      () => tail.of<LivescopeEventInput & { subject: string; data: { sessionId: string; reason: string } }>(fx.topics.events).find((m) => m.value.type === 'session.ended' && m.value.source === 'livescope-receiver/ssf' && m.value.subject === identity),
      90_000,
    );
    expect(ended.key).toBe(identity);
    expect(ended.value.data).toEqual({ sessionId: 'poll-session-1', reason: `CAEP session-revoked from ${tx.issuer}: task completed` });
    // The receiver signs what it publishes with its producer key.
    expect(ended.headers?.['livescope-producer-kid']?.toString()).toBe(fx.producerKeys.kid);
    const accepted = async () => (await rx.metrics.receivedSets.get()).values.find((v) => v.labels.outcome === 'accepted')?.value ?? 0;
    await waitFor('the accepted SET to be counted', async () => (await accepted()) >= 1);
    // Acknowledged in the next poll: nothing is left pending for the stream.
    const streamId = rx.pollReceivers[0]!.streamId!;
    await waitFor('the transmitter outbox of the stream to drain', async () => (await tx.transmitter!.outbox(streamId)).pending === 0, 30_000);
  });
});
