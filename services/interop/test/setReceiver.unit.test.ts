import { CaepEventType, draftsForRevocation, setPayload, SetSigner, type SetPayload } from '@livescope/caep';
import { Revocation, type LivescopeEventInput } from '@livescope/contracts';
import { exportPKCS8, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpApp } from '../src/httpApp.js';
import { InteropMetrics } from '../src/InteropMetrics.js';
import { MemorySsfStore } from '../src/ssf/MemorySsfStore.js';
import { SetReceiver } from '../src/ssf/SetReceiver.js';
import { silentLogger } from './support.js';

const IDP = 'https://idp.example.com/';
const AUD = 'https://livescope.example/receiver';
const NOW = Date.parse('2026-11-28T10:00:00Z');
let idp: SetSigner;
let stranger: SetSigner;

beforeAll(async () => {
  const key = async (alg: 'RS256' | 'ES256') => exportPKCS8((await generateKeyPair(alg, { modulusLength: 2048, extractable: true })).privateKey);
  idp = await SetSigner.create([{ kid: 'idp-1', alg: 'RS256', privateKey: await key('RS256') }]);
  stranger = await SetSigner.create([{ kid: 'idp-1', alg: 'ES256', privateKey: await key('ES256') }]);
});

function setup(publishFails = false, controlAllowed?: (t: string) => boolean) {
  const published: LivescopeEventInput[][] = [];
  const metrics = new InteropMetrics();
  const receiver = new SetReceiver({
    issuers: [{ issuer: IDP, audience: [AUD], jwks: idp.jwks(), authorization: 'Bearer idp-push-token-123', identityTemplate: 'okta:{value}', sessionTemplate: '{value}', riskScores: { low: 20, medium: 50, high: 90 }, anomalyTtlMs: 3_600_000 }],
    store: new MemorySsfStore(),
    publish: (events) => (publishFails ? Promise.reject(new Error('broker down')) : Promise.resolve(void published.push([...events]))),
    maxAgeSec: 86_400,
    logger: silentLogger,
    metrics,
    now: () => NOW,
    ...(controlAllowed ? { controlAllowed } : {}),
  });
  const app = httpApp({ logger: silentLogger, metrics, receiver });
  const push = (body: string, authorization = 'Bearer idp-push-token-123') => app.inject({ method: 'POST', url: '/ssf/receiver/push', headers: { 'content-type': 'application/secevent+jwt', authorization }, payload: body });
  return { push, published, metrics };
}

const sessionRevoked = (over: Partial<SetPayload> = {}): SetPayload => ({
  ...setPayload(draftsForRevocation(Revocation.parse({ kind: 'revocation', revocationId: 'x/1/0', identityId: 'svc-42', version: 1, at: '2026-11-28T09:59:00.000Z', target: { type: 'session', id: 'sess-7', system: 'okta' }, reason: 'admin revoked', cause: { actor: 'alice' } }), { subjectIssuer: IDP, sessionSubjects: 'complex' })[0]!, { issuer: IDP, audience: AUD, scope: 'idp' }),
  ...over,
});

describe('SSF receiver (RFC 8935 push endpoint)', () => {
  it('accepts a signed session-revoked SET with 202 and writes session.ended for the mapped identity', async () => {
    const { push, published } = setup();
    const r = await push(await idp.sign(sessionRevoked()));
    expect(r.statusCode).toBe(202);
    expect(published).toEqual([
      [
        {
          specversion: '1.0',
          id: expect.stringMatching(/^caep:[0-9a-f]{32}\/session-ended$/),
          type: 'session.ended',
          source: 'livescope-receiver/ssf',
          time: '2026-11-28T09:59:00.000Z',
          subject: 'okta:svc-42',
          data: { sessionId: 'sess-7', reason: 'CAEP session-revoked from https://idp.example.com/: admin revoked' },
        },
      ],
    ]);
  });

  it('rejects a replayed jti, a forged signature, an unknown issuer, another audience and an unauthenticated push, and counts each', async () => {
    const { push, published, metrics } = setup();
    const good = await idp.sign(sessionRevoked());
    expect((await push(good)).statusCode).toBe(202);
    const replay = await push(good);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toMatchObject({ err: 'invalid_request', description: expect.stringContaining('replay') });
    expect((await push(await stranger.sign(sessionRevoked({ jti: 'forged-1' })))).json()).toMatchObject({ err: 'invalid_key' });
    expect((await push(await idp.sign(sessionRevoked({ jti: 'x2', iss: 'https://evil.example/' })))).json()).toMatchObject({ err: 'invalid_issuer' });
    expect((await push(await idp.sign(sessionRevoked({ jti: 'x3', aud: 'https://someone-else' })))).json()).toMatchObject({ err: 'invalid_audience' });
    const unauthenticated = await push(await idp.sign(sessionRevoked({ jti: 'x4' })), 'Bearer wrong');
    expect(unauthenticated.statusCode).toBe(401);
    expect(unauthenticated.json()).toMatchObject({ err: 'authentication_failed' });
    expect((await push('not a jwt')).json()).toMatchObject({ err: 'invalid_request' });
    expect(published).toHaveLength(1);
    const counts = Object.fromEntries((await metrics.receivedSets.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(counts).toEqual({ accepted: 1, invalid_request: 2, invalid_key: 1, invalid_issuer: 1, invalid_audience: 1, authentication_failed: 1 });
  });

  it('answers 503 when the events cannot be stored, and accepts the retry (the jti was not remembered)', async () => {
    const failing = setup(true);
    const set = await idp.sign(sessionRevoked({ jti: 'retry-me' }));
    expect((await failing.push(set)).statusCode).toBe(503);
    const ok = setup();
    expect((await ok.push(set)).statusCode).toBe(202);
  });

  it('accepts control and unmapped events with 202 without writing events', async () => {
    const { push, published } = setup();
    const verification: SetPayload = { iss: IDP, jti: 'v1', iat: NOW / 1000, aud: AUD, sub_id: { format: 'opaque', id: 'stream-1' }, events: { 'https://schemas.openid.net/secevent/ssf/event-type/verification': { state: 's' } } };
    expect((await push(await idp.sign(verification))).statusCode).toBe(202);
    const claims: SetPayload = { ...verification, jti: 'c1', sub_id: { format: 'email', email: 'x@example.com' }, events: { [CaepEventType.tokenClaimsChange]: { claims: { role: 'ro' } } } };
    expect((await push(await idp.sign(claims))).statusCode).toBe(202);
    expect(published).toEqual([]);
  });

  it('answers 202 "accepted, no effect" only with a count by reason; no silent acceptance', async () => {
    const { push, metrics } = setup();
    const claims: SetPayload = { iss: IDP, jti: 'ne-1', iat: NOW / 1000, aud: AUD, sub_id: { format: 'email', email: 'x@example.com' }, events: { [CaepEventType.tokenClaimsChange]: { claims: { role: 'ro' } } } };
    expect((await push(await idp.sign(claims))).statusCode).toBe(202);
    const noEffect = Object.fromEntries((await metrics.noEffect.get()).values.map((v) => [v.labels.reason, v.value]));
    expect(noEffect).toEqual({ 'unmapped-event-type': 1 });
    expect((await metrics.receivedSets.get()).values.find((v) => v.labels.outcome === 'accepted_no_effect')?.value).toBe(1);
  });

  it('issue 17: maps the legacy per-event RISC subject, refuses an unresolvable subject (400), flags exp, knows the …/sse/… URIs', async () => {
    const { push, published } = setup();
    const legacy: SetPayload = { iss: IDP, jti: 'lg-1', iat: NOW / 1000, aud: AUD, events: { 'https://schemas.openid.net/secevent/risc/event-type/credential-compromise': { subject: { subject_type: 'iss-sub', iss: IDP, sub: 'svc-9' } } } };
    expect((await push(await idp.sign(legacy))).statusCode).toBe(202);
    expect(published.flat()).toMatchObject([{ type: 'telemetry.anomaly-detected', subject: 'okta:svc-9', data: { kind: 'risc-credential-compromise' } }]);
    const deviceOnly: SetPayload = { iss: IDP, jti: 'lg-2', iat: NOW / 1000, aud: AUD, sub_id: { format: 'complex', device: { format: 'opaque', id: 'd-1' } }, events: { 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {} } };
    const refused = await push(await idp.sign(deviceOnly));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ err: 'invalid_request', description: 'session-revoked not applied: subject format "complex" (sub_id) names no principal this receiver can map' });
    const withExp = await push(await idp.sign({ ...legacy, jti: 'lg-3', exp: NOW / 1000 + 60 }));
    expect(withExp.json()).toMatchObject({ err: 'invalid_request', description: expect.stringContaining('exp') });
    const sse: SetPayload = { iss: IDP, jti: 'lg-4', iat: NOW / 1000, aud: AUD, sub_id: { format: 'opaque', id: 'stream-1' }, events: { 'https://schemas.openid.net/secevent/sse/event-type/verification': { state: 'x' } } };
    expect((await push(await idp.sign(sse))).statusCode).toBe(202);
  });

  it('without a producer key withholds identity.disabled (counted) and applies its narrowing fallback; with one, publishes it', async () => {
    const disabled: SetPayload = { iss: IDP, jti: 'd-1', iat: NOW / 1000, aud: AUD, sub_id: { format: 'iss_sub', iss: IDP, sub: 'svc-1' }, events: { 'https://schemas.openid.net/secevent/risc/event-type/account-disabled': { reason: 'offboarded' } } };
    const keyless = setup();
    expect((await keyless.push(await idp.sign(disabled))).statusCode).toBe(202);
    expect(keyless.published.flat()).toMatchObject([{ type: 'telemetry.anomaly-detected', subject: 'okta:svc-1', data: { kind: 'risc-account-disabled', severity: 'critical' } }]);
    expect((await keyless.metrics.withheld.get()).values).toMatchObject([{ labels: { event_type: 'identity.disabled' }, value: 1 }]);
    const enabled: SetPayload = { ...disabled, jti: 'e-1', events: { 'https://schemas.openid.net/secevent/risc/event-type/account-enabled': {} } };
    expect((await keyless.push(await idp.sign(enabled))).statusCode).toBe(202);
    expect((await keyless.metrics.noEffect.get()).values).toMatchObject([{ labels: { reason: 'needs-producer-key' }, value: 1 }]);
    const keyed = setup(false, (t) => t.startsWith('identity.'));
    await keyed.push(await idp.sign(disabled));
    expect(keyed.published.flat()).toMatchObject([{ type: 'identity.disabled', subject: 'okta:svc-1' }]);
  });
});

