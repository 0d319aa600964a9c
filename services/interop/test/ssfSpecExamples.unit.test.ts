import { readFileSync } from 'node:fs';
import { CaepEventType, TRANSMITTED_EVENT_TYPES, type SetPayload } from '@livescope/caep';
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpApp } from '../src/httpApp.js';
import { InteropMetrics } from '../src/InteropMetrics.js';
import { MemorySsfStore } from '../src/ssf/MemorySsfStore.js';
import { OAuthTokenIssuer } from '../src/ssf/OAuthTokenIssuer.js';
import { ReceiverClients } from '../src/ssf/ReceiverClients.js';
import { Transmitter } from '../src/ssf/Transmitter.js';
import { rsaSigner, silentLogger } from './support.js';

/**
 * The SSF 1.0 specification's own example requests, sent as written, and its example responses,
 * compared with this transmitter's answers (fixtures/ssf-spec, copied from the specification).
 */
const spec = (name: string): string => readFileSync(new URL(`./fixtures/ssf-spec/${name}`, import.meta.url), 'utf8');

interface HttpMessage {
  readonly start: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}
function parseHttp(text: string): HttpMessage {
  const [head, ...rest] = text.split(/\r?\n\r?\n/);
  const [start, ...headerLines] = head!.split(/\r?\n/);
  const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const bodyText = rest.join('\n\n').trim();
  return { start: start!, headers, ...(bodyText ? { body: JSON.parse(bodyText) as unknown } : {}) };
}

const ISS = 'https://tr.example.com';
const STREAM = 'f67e39a0a4d34d56b3aa1bc4cff0069f';
/** The specification's example bearer token, configured as a receiver client's token. */
const SPEC_CLIENT = { clientId: 'receiver-a', token: 'eyJ0b2tlbiI6ImV4YW1wbGUifQo=', audience: 'https://receiver.example.com/web' };
let app: FastifyInstance;
let store: MemorySsfStore;
let now = Date.parse('2026-11-28T10:00:00Z');

/** Sends an example request as written and returns the answer. */
async function send(name: string) {
  const req = parseHttp(spec(name));
  const [method, url] = req.start.split(' ') as [string, string];
  return app.inject({ method: method as 'GET', url, headers: { authorization: req.headers.authorization!, ...(req.body ? { 'content-type': 'application/json' } : {}) }, ...(req.body ? { payload: req.body as Record<string, unknown> } : {}) });
}
const example = (name: string) => parseHttp(spec(name));
const statusOf = (m: HttpMessage): number => Number(m.start.split(' ')[1]);

/** An example stream configuration as this transmitter answers it: its own audience and supported events. */
const asThisTransmitter = (config: Record<string, unknown>) => ({
  ...config,
  aud: SPEC_CLIENT.audience,
  events_supported: TRANSMITTED_EVENT_TYPES,
  // events_delivered is the subset of events_requested this transmitter supports: none of the example's urn:example types.
  events_delivered: [],
  min_verification_interval: 5,
});

beforeAll(async () => {
  const { signer } = await rsaSigner('tx-1');
  store = new MemorySsfStore();
  const ids = [STREAM];
  const t = new Transmitter({ store, signer, issuer: () => ISS, defaultSubjects: 'NONE', minVerificationIntervalSec: 5, pollWaitMs: 100, pollAckTimeoutMs: 60_000, oauth: true, now: () => now, streamIds: () => ids.shift() ?? 'another-stream' });
  const oauth = new OAuthTokenIssuer([{ clientId: 'poller', clientSecret: 'poller-secret-0123456789', audience: 'https://poller.example/caep' }], signer, () => ISS, 600, () => now);
  app = httpApp({ logger: silentLogger, metrics: new InteropMetrics(), transmitter: { transmitter: t, signer, clients: new ReceiverClients([SPEC_CLIENT], oauth), oauth } });
});

describe('SSF 1.0 published examples: stream management', () => {
  it('discovery: the metadata has the members of the example, with this transmitter\'s endpoints', async () => {
    const expected = example('figdiscoveryresponse.http');
    const r = await app.inject({ method: 'GET', url: '/.well-known/ssf-configuration' });
    expect(r.statusCode).toBe(statusOf(expected));
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const got = r.json<Record<string, unknown>>();
    // Every member of the example is present, except critical_subject_members (this transmitter has none: omitted, as SSF requires of empty claims).
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected.body as object).filter((k) => k !== 'critical_subject_members').sort());
    expect(got).toMatchObject({ spec_version: '1_0', issuer: ISS, delivery_methods_supported: ['urn:ietf:rfc:8935', 'urn:ietf:rfc:8936'], authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }, { spec_urn: 'urn:ietf:rfc:6749' }], default_subjects: 'NONE' });
  });

  it('create: the example request answers 201 with the example stream configuration', async () => {
    const r = await send('figcreatestreamreq.http');
    const expected = example('figcreatestreamresp.http');
    expect(r.statusCode).toBe(statusOf(expected));
    expect(r.json()).toEqual(asThisTransmitter(expected.body as Record<string, unknown>));
  });

  it('read: with stream_id the configuration; without, the list', async () => {
    const r = await send('figreadconfigreq.http');
    const expected = example('figreadconfigresp.http');
    expect(r.statusCode).toBe(statusOf(expected));
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json()).toEqual(asThisTransmitter(expected.body as Record<string, unknown>));
    const list = await send('figreadconfigreqnostreamid.http');
    expect(list.json()).toEqual([asThisTransmitter(expected.body as Record<string, unknown>)]);
  });

  it('update (PATCH): the example changes the description and keeps the rest', async () => {
    const r = await send('figupdateconfigreq.http');
    const expected = example('figupdateconfigresp.http');
    expect(r.statusCode).toBe(statusOf(expected));
    expect(r.json()).toEqual(asThisTransmitter(expected.body as Record<string, unknown>));
  });

  it('replace (PUT): the example replaces the Receiver-Supplied properties', async () => {
    const r = await send('figreplaceconfigreq.http');
    const expected = example('figreplaceconfigresp.http');
    expect(r.statusCode).toBe(statusOf(expected));
    expect(r.json()).toEqual(asThisTransmitter(expected.body as Record<string, unknown>));
  });

  it('refuses a Transmitter-Supplied property that does not match (aud cannot be changed) with 400', async () => {
    const r = await app.inject({ method: 'PATCH', url: '/ssf/stream', headers: { authorization: `Bearer ${SPEC_CLIENT.token}` }, payload: { stream_id: STREAM, aud: 'https://attacker.example' } });
    expect(r.statusCode).toBe(400);
  });

  it('status: read, then the two update examples answer 200 with the status as sent', async () => {
    const read = await send('figstatusreq.http');
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ stream_id: STREAM, status: 'enabled' });
    const paused = await send('figupdatestatusreq.http');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toEqual({ stream_id: STREAM, status: 'paused' });
    const withReason = await send('figupdatestatuswithreasonreq.http');
    const expected = example('figupdatestatusresp.http');
    expect(withReason.statusCode).toBe(statusOf(expected));
    expect(withReason.json()).toEqual(expected.body);
    await app.inject({ method: 'POST', url: '/ssf/status', headers: { authorization: `Bearer ${SPEC_CLIENT.token}` }, payload: { stream_id: STREAM, status: 'enabled' } });
  });

  it('subjects: the add example answers an empty 200, the remove example an empty 204, at the example paths', async () => {
    const add = await send('figaddreq.http');
    expect(add.statusCode).toBe(statusOf(example('figaddresp.http')));
    expect(add.body).toBe('');
    expect(add.headers['cache-control']).toBe('no-store');
    const remove = await send('figremovereq.http');
    expect(remove.statusCode).toBe(statusOf(example('figremoveresp.http')));
    expect(remove.body).toBe('');
    expect((await store.streamSubjects(STREAM)).map((s) => [s.subject, s.included])).toEqual([
      [{ format: 'email', email: 'example.user@example.com' }, true],
      [{ format: 'phone', phone_number: '+12065550123' }, false],
    ]);
  });

  it('verification: the example request answers 204 and queues a SET shaped like the example verification SET', async () => {
    const r = await send('figverifyreq.http');
    expect(r.statusCode).toBe(statusOf(example('figverifyresp.http')));
    const queued = (await store.poll(STREAM, 10, now, 60_000)).entries.find((e) => e.eventType.endsWith('/verification'))!;
    const payload = decodeJwt(queued.set) as unknown as SetPayload;
    const expected = JSON.parse(spec('figverifyset.json')) as SetPayload;
    expect({ ...payload, jti: expected.jti, iat: expected.iat }).toEqual({ ...expected, iss: ISS, aud: SPEC_CLIENT.audience, sub_id: { format: 'opaque', id: STREAM } });
  });

  it('delete: the example request answers an empty 204; the stream is gone (404)', async () => {
    const r = await send('figdeletestreamreq.http');
    expect(r.statusCode).toBe(statusOf(example('figdeletestreamresp.http')));
    expect(r.headers['cache-control']).toBe('no-store');
    expect((await send('figreadconfigreq.http')).statusCode).toBe(404);
    expect((await send('figreadconfigreqnostreamid.http')).json()).toEqual([]);
  });

  it('answers 401 without credentials on every management endpoint', async () => {
    for (const [method, url] of [['GET', '/ssf/stream'], ['POST', '/ssf/stream'], ['GET', '/ssf/status?stream_id=x'], ['POST', '/ssf/subjects:add'], ['POST', '/ssf/verify'], ['POST', '/ssf/poll/x']] as const) {
      expect((await app.inject({ method, url, payload: {} })).statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('RFC 6749 client credentials and RFC 8936 polling', () => {
  const tokenRequest = (body: string, authorization?: string) => app.inject({ method: 'POST', url: '/ssf/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) }, payload: body });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  it('issues access tokens for client credentials (Basic or form), refuses bad clients and grants', async () => {
    const ok = await tokenRequest('grant_type=client_credentials', basic('poller', 'poller-secret-0123456789'));
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'ssf' });
    expect((await tokenRequest('grant_type=client_credentials&client_id=poller&client_secret=poller-secret-0123456789')).statusCode).toBe(200);
    const wrong = await tokenRequest('grant_type=client_credentials', basic('poller', 'nope'));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'invalid_client' });
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="ssf"');
    expect((await tokenRequest('grant_type=password&username=a&password=b', basic('poller', 'poller-secret-0123456789'))).json()).toMatchObject({ error: 'unsupported_grant_type' });
    expect((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json()).toMatchObject({ token_endpoint: `${ISS}/ssf/oauth/token`, grant_types_supported: ['client_credentials'] });
  });

  it('a client-credentials token manages its own stream and polls it: sets, ack, setErrs (RFC 8936 §2.4)', async () => {
    const token = (await tokenRequest('grant_type=client_credentials', basic('poller', 'poller-secret-0123456789'))).json<{ access_token: string }>().access_token;
    const h = { authorization: `Bearer ${token}` };
    const created = await app.inject({ method: 'POST', url: '/ssf/streams', headers: h, payload: { events_requested: [CaepEventType.sessionRevoked] } });
    expect(created.statusCode).toBe(201);
    const stream = created.json<{ stream_id: string; aud: string; delivery: { method: string; endpoint_url: string } }>();
    expect(stream.aud).toBe('https://poller.example/caep');
    expect(stream.delivery).toEqual({ method: 'urn:ietf:rfc:8936', endpoint_url: `${ISS}/ssf/poll/${stream.stream_id}` });
    // Another receiver's token does not see it.
    expect((await app.inject({ method: 'GET', url: `/ssf/streams?stream_id=${stream.stream_id}`, headers: { authorization: `Bearer ${SPEC_CLIENT.token}` } })).statusCode).toBe(404);
    for (const state of ['a', 'b']) {
      now += 10_000;
      expect((await app.inject({ method: 'POST', url: '/ssf/verify', headers: h, payload: { stream_id: stream.stream_id, state } })).statusCode).toBe(204);
    }
    const path = new URL(stream.delivery.endpoint_url).pathname;
    const first = await app.inject({ method: 'POST', url: path, headers: h, payload: { maxEvents: 1, returnImmediately: true } });
    const firstBody = first.json<{ sets: Record<string, string>; moreAvailable: boolean }>();
    expect(Object.keys(firstBody.sets)).toHaveLength(1);
    expect(firstBody.moreAvailable).toBe(true);
    const [ackJti] = Object.keys(firstBody.sets);
    const second = (await app.inject({ method: 'POST', url: path, headers: h, payload: { ack: [ackJti], maxEvents: 10, returnImmediately: true } })).json<{ sets: Record<string, string>; moreAvailable: boolean }>();
    expect(Object.keys(second.sets)).toHaveLength(1);
    expect(second.sets[ackJti!]).toBeUndefined();
    const [errJti] = Object.keys(second.sets);
    const third = (await app.inject({ method: 'POST', url: path, headers: h, payload: { setErrs: { [errJti!]: { err: 'invalid_state', description: 'unexpected state' } }, returnImmediately: true } })).json();
    expect(third).toEqual({ sets: {}, moreAvailable: false });
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${forged}` }, payload: {} })).statusCode).toBe(401);
  });
});
