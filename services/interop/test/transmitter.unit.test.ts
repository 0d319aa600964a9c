import { CaepEventType, draftsForRevocation, SsfEventType, type SetDraft } from '@livescope/caep';
import { Revocation } from '@livescope/contracts';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, compactVerify, decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { httpApp } from '../src/httpApp.js';
import { InteropMetrics } from '../src/InteropMetrics.js';
import { MemorySsfStore } from '../src/ssf/MemorySsfStore.js';
import { ReceiverClients } from '../src/ssf/ReceiverClients.js';
import { Transmitter } from '../src/ssf/Transmitter.js';
import { acme, other, rsaSigner, silentLogger } from './support.js';

const ISS = 'https://tx.livescope.example';
const { signer } = await rsaSigner('tx-1');
const revocation = (identityId: string, sessionId: string) =>
  Revocation.parse({ kind: 'revocation', revocationId: `${identityId}/3/0`, identityId, version: 3, at: '2026-11-28T10:00:00.000Z', target: { type: 'session', id: sessionId, system: 'vault' }, reason: 'task completed', cause: { eventId: 'e1' } });
const drafts = (identityId = 'sa-1', sessionId = 's-1'): SetDraft[] => draftsForRevocation(revocation(identityId, sessionId), { subjectIssuer: ISS, sessionSubjects: 'complex' });

let store: MemorySsfStore;
let t: Transmitter;
let app: FastifyInstance;
let now: number;
const auth = (c = acme) => ({ authorization: `Bearer ${c.token}` });

beforeEach(() => {
  store = new MemorySsfStore();
  now = Date.parse('2026-11-28T10:00:00Z');
  t = new Transmitter({ store, signer, issuer: () => ISS, defaultSubjects: 'ALL', minVerificationIntervalSec: 5, pollWaitMs: 300, pollAckTimeoutMs: 60_000, now: () => now });
  app = httpApp({ logger: silentLogger, metrics: new InteropMetrics(), transmitter: { transmitter: t, signer, clients: new ReceiverClients([acme, other]) } });
});

async function createStream(body: Record<string, unknown>, client = acme): Promise<Record<string, unknown>> {
  const r = await app.inject({ method: 'POST', url: '/ssf/streams', headers: auth(client), payload: body });
  expect(r.statusCode).toBe(201);
  return r.json();
}

describe('SSF transmitter metadata and keys', () => {
  it('publishes the configuration metadata the SSF 1.0 / CAEP interop profile requires', async () => {
    const r = await app.inject({ method: 'GET', url: '/.well-known/ssf-configuration' });
    expect(r.json()).toEqual({
      spec_version: '1_0',
      issuer: ISS,
      jwks_uri: `${ISS}/ssf/jwks.json`,
      delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'],
      configuration_endpoint: `${ISS}/ssf/streams`,
      status_endpoint: `${ISS}/ssf/status`,
      add_subject_endpoint: `${ISS}/ssf/subjects/add`,
      remove_subject_endpoint: `${ISS}/ssf/subjects/remove`,
      verification_endpoint: `${ISS}/ssf/verify`,
      authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
      default_subjects: 'ALL',
    });
    const jwks = (await app.inject({ method: 'GET', url: '/ssf/jwks.json' })).json<{ keys: Record<string, unknown>[] }>();
    expect(jwks.keys.map((k) => [k.kid, k.alg, k.use])).toEqual([['tx-1', 'RS256', 'sig']]);
  });
});

describe('SSF stream management', () => {
  it('creates a push stream with the client audience, reads it, lists it, and hides its authorization header', async () => {
    const created = await createStream({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://acme.example/ssf/push', authorization_header: 'Bearer secret-for-push' }, events_requested: [CaepEventType.sessionRevoked, 'urn:example:unsupported'], description: 'acme gateway' });
    expect(created).toEqual({
      stream_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      iss: ISS,
      aud: 'https://acme.example/caep',
      delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://acme.example/ssf/push' },
      events_supported: t.eventsSupported,
      events_requested: [CaepEventType.sessionRevoked, 'urn:example:unsupported'],
      events_delivered: [CaepEventType.sessionRevoked],
      description: 'acme gateway',
      min_verification_interval: 5,
    });
    const id = created.stream_id as string;
    expect((await app.inject({ method: 'GET', url: `/ssf/streams?stream_id=${id}`, headers: auth() })).json()).toEqual(created);
    expect((await app.inject({ method: 'GET', url: '/ssf/streams', headers: auth() })).json()).toEqual([created]);
    expect((await app.inject({ method: 'GET', url: '/ssf/streams', headers: auth(other) })).json()).toEqual([]);
    expect((await app.inject({ method: 'GET', url: `/ssf/streams?stream_id=${id}`, headers: auth(other) })).statusCode).toBe(404);
  });

  it('creates a poll stream when no delivery is given, with a transmitter-supplied endpoint', async () => {
    const created = await createStream({});
    expect(created.delivery).toEqual({ method: 'urn:ietf:rfc:8936', endpoint_url: `${ISS}/ssf/poll/${created.stream_id as string}` });
    expect(created.events_delivered).toEqual(t.eventsSupported);
  });

  it('updates (PATCH keeps what is missing), replaces (PUT removes it) and deletes', async () => {
    const s = await createStream({ delivery: { method: 'urn:ietf:rfc:8936' }, description: 'd1', events_requested: [CaepEventType.sessionRevoked] });
    const id = s.stream_id as string;
    const patched = (await app.inject({ method: 'PATCH', url: '/ssf/streams', headers: auth(), payload: { stream_id: id, iss: ISS, events_requested: [CaepEventType.credentialChange] } })).json();
    expect(patched).toMatchObject({ description: 'd1', events_delivered: [CaepEventType.credentialChange] });
    const replaced = (await app.inject({ method: 'PUT', url: '/ssf/streams', headers: auth(), payload: { stream_id: id, delivery: { method: 'urn:ietf:rfc:8936' } } })).json<Record<string, unknown>>();
    expect(replaced.description).toBeUndefined();
    expect(replaced.events_requested).toEqual([]);
    expect((await app.inject({ method: 'PATCH', url: '/ssf/streams', headers: auth(), payload: { stream_id: id, iss: 'https://someone-else' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: `/ssf/streams?stream_id=${id}`, headers: auth() })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: `/ssf/streams?stream_id=${id}`, headers: auth() })).statusCode).toBe(404);
  });

  it('refuses unauthenticated requests, tokens in the query string, plain-http push endpoints off loopback, and bad bodies', async () => {
    expect((await app.inject({ method: 'POST', url: '/ssf/streams', payload: {} })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/ssf/streams?access_token=${acme.token}` })).json()).toEqual({ err: 'authentication_failed', description: 'a valid bearer token is required' });
    expect((await app.inject({ method: 'POST', url: '/ssf/streams', headers: auth(), payload: { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://10.0.0.5/push' } } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/ssf/streams', headers: auth(), payload: { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://127.0.0.1:9/push' } } })).statusCode).toBe(201);
    expect((await app.inject({ method: 'POST', url: '/ssf/streams', headers: auth(), payload: { delivery: { method: 'carrier-pigeon' } } })).statusCode).toBe(400);
  });

  it('reads and sets the status; a disabled stream drops what was queued; re-enabling sends stream-updated', async () => {
    const id = (await createStream({})).stream_id as string;
    await t.fanOut(drafts());
    expect(await store.outboxCounts(id)).toEqual({ pending: 1, failed: 0 });
    expect((await app.inject({ method: 'GET', url: `/ssf/status?stream_id=${id}`, headers: auth() })).json()).toEqual({ stream_id: id, status: 'enabled' });
    expect((await app.inject({ method: 'POST', url: '/ssf/status', headers: auth(), payload: { stream_id: id, status: 'disabled', reason: 'maintenance' } })).json()).toEqual({ stream_id: id, status: 'disabled', reason: 'maintenance' });
    expect(await store.outboxCounts(id)).toEqual({ pending: 0, failed: 0 });
    await t.fanOut(drafts('sa-2', 's-2'));
    expect(await store.outboxCounts(id)).toEqual({ pending: 0, failed: 0 });
    await app.inject({ method: 'POST', url: '/ssf/status', headers: auth(), payload: { stream_id: id, status: 'enabled' } });
    const polled = (await app.inject({ method: 'POST', url: `/ssf/poll/${id}`, headers: auth(), payload: { returnImmediately: true } })).json<{ sets: Record<string, string> }>();
    const [set] = Object.values(polled.sets);
    const { payload } = await compactVerify(set!, createLocalJWKSet(signer.jwks()));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ iss: ISS, aud: acme.audience, sub_id: { format: 'opaque', id }, events: { [SsfEventType.streamUpdated]: { status: 'enabled' } } });
  });
});

describe('SSF subjects, fan-out and verification', () => {
  it('delivers every subject by default, not the removed ones, and again once added back', async () => {
    const id = (await createStream({ events_requested: [CaepEventType.sessionRevoked] })).stream_id as string;
    const subject = { format: 'iss_sub', iss: ISS, sub: 'sa-1' };
    expect((await app.inject({ method: 'POST', url: '/ssf/subjects/remove', headers: auth(), payload: { stream_id: id, subject } })).statusCode).toBe(204);
    expect(await t.fanOut([...drafts('sa-1', 's-1'), ...drafts('sa-2', 's-2')])).toBe(1);
    expect((await app.inject({ method: 'POST', url: '/ssf/subjects/add', headers: auth(), payload: { stream_id: id, subject, verified: true } })).statusCode).toBe(200);
    expect(await t.fanOut(drafts('sa-1', 's-3'))).toBe(1);
    expect(await store.outboxCounts(id)).toEqual({ pending: 2, failed: 0 });
  });

  it('with default_subjects NONE delivers only subjects added', async () => {
    t = new Transmitter({ store, signer, issuer: () => ISS, defaultSubjects: 'NONE', minVerificationIntervalSec: 0, pollWaitMs: 0, pollAckTimeoutMs: 60_000 });
    const id = (await createStream({})).stream_id as string;
    expect(await t.fanOut(drafts('sa-1'))).toBe(0);
    await t.subject(acme, { stream_id: id, subject: { format: 'iss_sub', iss: ISS, sub: 'sa-1' } }, true);
    expect(await t.fanOut(drafts('sa-1'))).toBe(1);
  });

  it('skips event types a stream did not request, and never queues the same SET twice', async () => {
    const id = (await createStream({ events_requested: [CaepEventType.credentialChange] })).stream_id as string;
    expect(await t.fanOut(drafts())).toBe(0);
    await app.inject({ method: 'PATCH', url: '/ssf/streams', headers: auth(), payload: { stream_id: id, events_requested: [CaepEventType.sessionRevoked] } });
    expect(await t.fanOut(drafts())).toBe(1);
    expect(await t.fanOut(drafts())).toBe(0);
  });

  it('queues a verification SET carrying the state, at most once per min_verification_interval', async () => {
    const id = (await createStream({})).stream_id as string;
    expect((await app.inject({ method: 'POST', url: '/ssf/verify', headers: auth(), payload: { stream_id: id, state: 'abc123' } })).statusCode).toBe(204);
    expect((await app.inject({ method: 'POST', url: '/ssf/verify', headers: auth(), payload: { stream_id: id } })).statusCode).toBe(429);
    now += 5000;
    expect((await app.inject({ method: 'POST', url: '/ssf/verify', headers: auth(), payload: { stream_id: id } })).statusCode).toBe(204);
    const polled = (await app.inject({ method: 'POST', url: `/ssf/poll/${id}`, headers: auth(), payload: { returnImmediately: true, maxEvents: 1 } })).json<{ sets: Record<string, string>; moreAvailable: boolean }>();
    expect(polled.moreAvailable).toBe(true);
    const set = Object.values(polled.sets)[0]!;
    expect(decodeProtectedHeader(set)).toEqual({ alg: 'RS256', kid: 'tx-1', typ: 'secevent+jwt' });
    expect(JSON.parse(Buffer.from(set.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub_id: { format: 'opaque', id }, events: { [SsfEventType.verification]: { state: 'abc123' } } });
  });
});

describe('RFC 8936 poll delivery', () => {
  it('returns queued SETs, re-delivers unacknowledged ones after the ack timeout, forgets acknowledged ones', async () => {
    const id = (await createStream({})).stream_id as string;
    await t.fanOut(drafts('sa-1', 's-1'));
    const poll = async (body: Record<string, unknown>) => (await app.inject({ method: 'POST', url: `/ssf/poll/${id}`, headers: auth(), payload: body })).json<{ sets: Record<string, string>; moreAvailable: boolean }>();
    const first = await poll({ returnImmediately: true });
    const [jti] = Object.keys(first.sets);
    expect(first.moreAvailable).toBe(false);
    expect(await poll({ returnImmediately: true })).toEqual({ sets: {}, moreAvailable: false });
    now += 61_000;
    expect(Object.keys((await poll({ returnImmediately: true })).sets)).toEqual([jti]);
    expect(await poll({ ack: [jti], returnImmediately: true })).toEqual({ sets: {}, moreAvailable: false });
    now += 61_000;
    expect(await poll({ returnImmediately: true })).toEqual({ sets: {}, moreAvailable: false });
  });

  it('long-polls until a SET is queued for the stream', async () => {
    t = new Transmitter({ store, signer, issuer: () => ISS, defaultSubjects: 'ALL', minVerificationIntervalSec: 0, pollWaitMs: 5000, pollAckTimeoutMs: 60_000 });
    app = httpApp({ logger: silentLogger, metrics: new InteropMetrics(), transmitter: { transmitter: t, signer, clients: new ReceiverClients([acme]) } });
    const id = (await createStream({})).stream_id as string;
    const started = Date.now();
    const pending = app.inject({ method: 'POST', url: `/ssf/poll/${id}`, headers: auth(), payload: {} });
    setTimeout(() => void t.fanOut(drafts()), 100);
    const r = (await pending).json<{ sets: Record<string, string> }>();
    expect(Object.keys(r.sets)).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('refuses to poll a push stream', async () => {
    const id = (await createStream({ delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://acme.example/push' } })).stream_id as string;
    expect((await app.inject({ method: 'POST', url: `/ssf/poll/${id}`, headers: auth(), payload: {} })).json()).toEqual({ err: 'invalid_request', description: 'this stream is delivered by push, not poll' });
  });
});
