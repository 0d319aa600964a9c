import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adapterFor, OcsfDetectionFinding } from '@livescope/adapters';
import { CaepEventType, SetSigner, type SetPayload } from '@livescope/caep';
import type { LivescopeEventInput, Revocation } from '@livescope/contracts';
import { permitAllPolicy } from '@livescope/scope-engine';
import { createWorker, loadWorkerConfig, type ScopeWorker } from '@livescope/scope-worker';
import { PipelineFixture, testEnv, waitFor } from '@livescope/testkit';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInteropConfig } from '../src/config.js';
import { IngestPipeline } from '../src/ingest/IngestPipeline.js';
import { KafkaIngestSink } from '../src/ingest/KafkaIngestSink.js';
import { InteropService } from '../src/InteropService.js';

const IDP = 'https://idp.test';
const RECEIVER_AUD = 'https://livescope.test/receiver';
const IDP_PUSH_AUTH = 'Bearer idp-push-0123456789';
const SIEM_AUTH = 'Splunk siem-token';

let fx: PipelineFixture;
let worker: ScopeWorker;
let closeWorkerStore: () => Promise<void>;
let interop: InteropService;
let idp: SetSigner;
let siem: Server;
let siemFailuresLeft = 2;
const siemReceived: unknown[] = [];

beforeAll(async () => {
  fx = await new PipelineFixture(3).open();
  const built = await createWorker(loadWorkerConfig(fx.workerEnv()), fx.logger, () => permitAllPolicy);
  worker = built.worker;
  closeWorkerStore = () => built.store.close();
  await worker.start();
  // A SIEM HTTP collector that fails twice before taking findings (the sink must retry).
  siem = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization !== SIEM_AUTH) return void res.writeHead(401).end();
      if (siemFailuresLeft-- > 0) return void res.writeHead(503).end();
      siemReceived.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200).end('{"text":"Success","code":0}');
    });
  });
  await new Promise<void>((r) => siem.listen(0, '127.0.0.1', r));
  idp = await SetSigner.create([{ kid: 'idp-key-1', alg: 'ES256', privateKey: await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey) }]);
  interop = new InteropService(
    loadInteropConfig({
      LIVESCOPE_KAFKA_BROKERS: testEnv.brokers.join(','),
      LIVESCOPE_REGISTRY_URL: testEnv.registryUrl,
      LIVESCOPE_PG_URL: testEnv.pgUrl,
      LIVESCOPE_PG_SCHEMA: fx.schema,
      LIVESCOPE_TOPIC_PREFIX: fx.prefix,
      LIVESCOPE_INTEROP_PORT: '0',
      LIVESCOPE_INTEROP_ENABLE: 'receiver,ocsf',
      LIVESCOPE_SSF_TRUSTED_ISSUERS: JSON.stringify([{ issuer: IDP, audience: [RECEIVER_AUD], jwks: idp.jwks(), authorization: IDP_PUSH_AUTH, identityTemplate: 'vault:{value}' }]),
      LIVESCOPE_OCSF_WEBHOOK_URL: `http://127.0.0.1:${(siem.address() as AddressInfo).port}/services/collector/raw`,
      LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION: SIEM_AUTH,
      LIVESCOPE_SSF_RETRY_BASE_MS: '20',
      LIVESCOPE_CONSUME_FROM_BEGINNING: 'true',
      LIVESCOPE_LOG_LEVEL: process.env.LIVESCOPE_TEST_LOG_LEVEL ?? 'warn',
    }),
    fx.logger,
  );
  await interop.start();
});

afterAll(async () => {
  await interop?.stop();
  await new Promise<void>((r) => (siem ? siem.close(() => r()) : r()));
  await worker?.stop();
  await closeWorkerStore?.();
  await fx?.close();
});

const ingest = async (source: 'vault' | 'k8s', text: string) => new IngestPipeline(adapterFor(source), new KafkaIngestSink(interop.kafka, `ingest:${source}:test`)).consume([text]);

describe('drift alerts to SIEMs as OCSF Detection Findings', () => {
  it('a Kubernetes 403 of a service account becomes an out-of-scope drift alert, then an OCSF finding on the topic and at the SIEM webhook', async () => {
    const tail = await fx.tail(['driftAlerts', 'ocsfAlerts']);
    const item = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `ocsf-${fx.id}`, stage: 'ResponseComplete', verb: 'get', user: { username: 'system:serviceaccount:default:app-sa' }, objectRef: { resource: 'secrets', namespace: 'production', name: 'admin-token' }, responseStatus: { code: 403, message: 'Forbidden' }, stageTimestamp: new Date().toISOString() };
    expect(await ingest('k8s', JSON.stringify(item))).toMatchObject({ events: 2 });
    const alert = await waitFor('the drift alert', () => tail.of<{ type: string; identityId: string }>(fx.topics.driftAlerts).find((m) => m.value.identityId === 'k8s:default/app-sa'));
    expect(alert.value.type).toBe('out-of-scope-attempt');
    const finding = await waitFor('the OCSF finding on the topic', () => tail.of<OcsfDetectionFinding>(fx.topics.ocsfAlerts)[0]);
    expect(OcsfDetectionFinding.parse(finding.value)).toMatchObject({ class_uid: 2004, type_uid: 200401, severity: 'Medium', finding_info: { types: ['out-of-scope-attempt'] }, resources: [{ uid: 'k8s:default/app-sa', type: 'Non-Human Identity' }] });
    expect(finding.key).toBe('k8s:default/app-sa');
    const atSiem = await waitFor('the finding at the SIEM (after two refusals)', () => siemReceived[0] as OcsfDetectionFinding | undefined, 60_000);
    expect(atSiem).toEqual(finding.value);
    expect(siemFailuresLeft).toBeLessThan(0);
  });
});

describe('SSF receiver: an IdP revokes a session of a workload', () => {
  const ACCESSOR = 'hmac-sha256:acc-reporter';
  const payload = (jti: string): SetPayload => ({
    iss: IDP,
    jti,
    iat: Math.floor(Date.now() / 1000),
    aud: RECEIVER_AUD,
    sub_id: { format: 'complex', user: { format: 'iss_sub', iss: IDP, sub: 'approle/reporter' }, session: { format: 'opaque', id: ACCESSOR } },
    events: { [CaepEventType.sessionRevoked]: { initiating_entity: 'admin', reason_admin: { en: 'compromised host' }, event_timestamp: Math.floor(Date.now() / 1000) } },
  });
  const push = async (body: string, authorization = IDP_PUSH_AUTH) => fetch(`${interop.issuer}/ssf/receiver/push`, { method: 'POST', headers: { 'content-type': 'application/secevent+jwt', authorization }, body });

  it('maps the pushed session-revoked SET to session.ended: the worker revokes the leases taken in that session; a replay is refused', async () => {
    const tail = await fx.tail(['events', 'revocations']);
    const now = Date.now();
    const auth = { client_token: 'hmac-sha256:tok-reporter', accessor: ACCESSOR, display_name: 'approle', metadata: { role_name: 'reporter' }, token_type: 'service', token_ttl: 3600, token_issue_time: new Date(now - 5000).toISOString() };
    const lines = [
      { time: new Date(now - 5000).toISOString(), type: 'response', auth, request: { id: `rep-login-${fx.id}`, operation: 'update', path: 'auth/approle/login' }, response: { auth } },
      { time: new Date(now - 4000).toISOString(), type: 'response', auth, request: { id: `rep-creds-${fx.id}`, operation: 'read', path: 'database/creds/reporting', client_token: 'hmac-sha256:tok-reporter' }, response: { secret: { lease_id: 'database/creds/reporting/L1' } } },
    ];
    expect(await ingest('vault', lines.map((l) => JSON.stringify(l)).join('\n'))).toMatchObject({ events: 4, deadLetters: 0 });
    const set = await idp.sign(payload(`idp-${fx.id}-1`));
    expect((await push(set, 'Bearer wrong-token-123456')).status).toBe(401);
    const accepted = await push(set);
    expect(accepted.status).toBe(202);
    const ended = await waitFor('session.ended on the events topic', () => tail.of<LivescopeEventInput>(fx.topics.events).find((m) => m.value.type === 'session.ended'));
    expect(ended.key).toBe('vault:approle/reporter');
    expect(ended.value).toMatchObject({ subject: 'vault:approle/reporter', data: { sessionId: ACCESSOR, reason: 'CAEP session-revoked from https://idp.test: compromised host' } });
    const lease = await waitFor('the lease revocation', () => tail.of<Revocation>(fx.topics.revocations).find((m) => m.value.identityId === 'vault:approle/reporter'));
    expect(lease.value.target).toEqual({ type: 'lease', id: 'database/creds/reporting/L1', system: 'vault', secretPath: 'database/creds/reporting' });
    const replay = await push(set);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ err: 'invalid_request' });
    const metrics = await (await fetch(`${interop.issuer}/metrics`)).text();
    expect(metrics).toContain('livescope_interop_ssf_received_sets_total{outcome="accepted"} 1');
    expect(metrics).toContain('livescope_interop_ssf_received_sets_total{outcome="invalid_request"} 1');
    expect(metrics).toContain('livescope_interop_ssf_received_sets_total{outcome="authentication_failed"} 1');
  });
});
