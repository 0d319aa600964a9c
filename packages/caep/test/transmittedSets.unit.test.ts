import { Revocation, ScopeChange } from '@livescope/contracts';
import { createLocalJWKSet, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaepError } from '../src/CaepError.js';
import { CaepEventType, LivescopeMember, RiscEventType } from '../src/eventTypes.js';
import { ReplayWindow } from '../src/ReplayWindow.js';
import { SetPayload } from '../src/SetPayload.js';
import { draftsForRevocation, draftsForScopeChange, setPayload, streamUpdatedDraft, verificationDraft } from '../src/setsFromCommands.js';
import { SetSigner } from '../src/SetSigner.js';
import { validateSet } from '../src/validateSet.js';
import { verifySet, type TrustedIssuer } from '../src/verifySet.js';
import { caepSample, caepSamples } from './support.js';

const ISS = 'https://livescope.example/ssf';
const subjectOptions = { subjectIssuer: ISS, sessionSubjects: 'complex' as const };
const revocation = (type: 'session' | 'token' | 'lease', id: string, extra: Record<string, unknown> = {}) =>
  Revocation.parse({
    kind: 'revocation',
    revocationId: `sa-1/4/${type === 'session' ? 0 : 1}`,
    identityId: 'sa-1',
    version: 4,
    at: '2026-03-01T10:04:00.000Z',
    target: { type, id, system: 'vault', ...extra },
    reason: 'task completed',
    cause: { eventId: 'e5', eventType: 'session.task-completed' },
  });
const change = (over: Record<string, unknown> = {}) =>
  ScopeChange.parse({
    kind: 'scope.change',
    identityId: 'sa-1',
    version: 5,
    previousVersion: 4,
    at: '2026-03-01T10:04:00.000Z',
    status: 'active',
    permissions: [],
    sessions: [],
    direction: 'narrowing',
    added: [],
    removed: [{ action: 'vault:read', resource: 'secret/db', access: 'read', cause: { eventId: 'e5' } }],
    cause: { eventId: 'e5', eventType: 'session.task-completed' },
    ...over,
  });
const addressing = { issuer: ISS, audience: 'https://receiver.example/caep', scope: 'stream-1' };

describe('SETs from revocations and scope changes', () => {
  it('a session revocation is a CAEP session-revoked SET shaped like the spec samples', () => {
    const [draft] = draftsForRevocation(revocation('session', 'hmac-sha256:bb22'), subjectOptions);
    const payload = setPayload(draft!, addressing);
    expect(payload).toEqual({
      iss: ISS,
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
      iat: 1772359440,
      aud: 'https://receiver.example/caep',
      txn: 'e5',
      sub_id: { format: 'complex', user: { format: 'iss_sub', iss: ISS, sub: 'sa-1' }, session: { format: 'opaque', id: 'hmac-sha256:bb22' } },
      events: {
        [CaepEventType.sessionRevoked]: {
          initiating_entity: 'policy',
          reason_admin: { en: 'task completed' },
          event_timestamp: 1772359440,
          [LivescopeMember.revocationId]: 'sa-1/4/0',
          [LivescopeMember.system]: 'vault',
        },
      },
    });
    expect(validateSet(payload)).toEqual([]);
    // Same top-level claims as the spec's session-revoked examples, and one event per SET.
    const sample = caepSample('caep-session-revoked-sub-claim.json');
    expect(Object.keys(payload).sort()).toEqual(Object.keys(sample).sort());
    expect(Object.keys(payload.events)).toHaveLength(1);
    expect(Object.keys(payload.sub_id!).sort()).toEqual(['format', 'session', 'user']);
  });

  it('token and lease revocations are credential-change SETs (change_type revoke) naming the credential', () => {
    const [token] = draftsForRevocation(revocation('token', 'tok-9'), subjectOptions);
    const [lease] = draftsForRevocation(revocation('lease', 'database/creds/readonly/abc', { secretPath: 'database/creds/readonly' }), subjectOptions);
    expect(setPayload(token!, addressing).events[CaepEventType.credentialChange]).toMatchObject({ credential_type: 'bearer-token', change_type: 'revoke', [LivescopeMember.credentialId]: 'tok-9' });
    const l = setPayload(lease!, addressing);
    expect(l.sub_id).toEqual({ format: 'iss_sub', iss: ISS, sub: 'sa-1' });
    expect(l.events[CaepEventType.credentialChange]).toMatchObject({ credential_type: 'secret-lease', change_type: 'revoke', [LivescopeMember.credentialId]: 'database/creds/readonly/abc', [LivescopeMember.secretPath]: 'database/creds/readonly', reason_admin: { en: 'task completed' } });
    for (const p of [setPayload(token!, addressing), l]) expect(validateSet(p)).toEqual([]);
  });

  it('scope changes are token-claims-change SETs; MFA and lifecycle causes add assurance and RISC SETs', () => {
    const narrowing = draftsForScopeChange(change(), subjectOptions);
    expect(narrowing.map((d) => d.eventType)).toEqual([CaepEventType.tokenClaimsChange]);
    expect(setPayload(narrowing[0]!, addressing).events[CaepEventType.tokenClaimsChange]).toEqual({
      event_timestamp: 1772359440,
      initiating_entity: 'policy',
      reason_admin: { en: 'runtime scope narrowing: 1 permission(s) removed, 0 added (version 5)' },
      claims: { livescope_scope_version: 5, livescope_status: 'active', livescope_permissions: [], livescope_sessions: [] },
      [LivescopeMember.scopeVersion]: 5,
    });
    expect(draftsForScopeChange(change({ direction: 'widening', removed: [], added: [{ action: 'a:b', resource: 'r', access: 'read', cause: {} }], cause: { eventId: 'm1', eventType: 'session.mfa-verified' } }), subjectOptions).map((d) => d.eventType)).toEqual([
      CaepEventType.tokenClaimsChange,
      CaepEventType.assuranceLevelChange,
    ]);
    expect(draftsForScopeChange(change({ status: 'disabled', cause: { eventId: 'd1', eventType: 'identity.disabled' } }), subjectOptions).map((d) => d.eventType)).toEqual([CaepEventType.tokenClaimsChange, RiscEventType.accountDisabled]);
    expect(draftsForScopeChange(change({ direction: 'refresh', removed: [], cause: { timer: true } }), subjectOptions)).toEqual([]);
  });

  it('jti is deterministic per command and stream, and differs between streams', () => {
    const [d] = draftsForRevocation(revocation('session', 's1'), subjectOptions);
    expect(setPayload(d!, addressing).jti).toBe(setPayload(d!, addressing).jti);
    expect(setPayload(d!, { ...addressing, scope: 'stream-2' }).jti).not.toBe(setPayload(d!, addressing).jti);
  });

  it('verification and stream-updated SETs name the stream as an opaque subject, like the SSF samples', () => {
    const v = setPayload(verificationDraft('f67e39a0a4d34d56b3aa1bc4cff0069f', 'VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=', 1493856000, 'n1'), { issuer: 'https://transmitter.example.com', audience: 'receiver.example.com', scope: 'x' });
    const sample = caepSample('ssf-set-verification.json');
    expect({ ...v, jti: sample.jti }).toEqual(sample);
    const u = setPayload(streamUpdatedDraft('f67e39a0a4d34d56b3aa1bc4cff0069f', 'paused', 'Internal error', 1493856000, 'n2'), { issuer: 'https://transmitter.example.com', audience: 'receiver.example.com', scope: 'x' });
    expect({ ...u, jti: '123456' }).toEqual(caepSample('ssf-set-stream-updated.json'));
  });

  it('every spec sample passes the same structural validation our SETs pass', () => {
    for (const f of caepSamples()) expect(SetPayload.safeParse(caepSample(f)).success, f).toBe(true);
  });
});

describe('signing and an in-test receiver (signature, iss, aud, jti uniqueness)', () => {
  let signer: SetSigner;
  let trusted: TrustedIssuer;
  beforeAll(async () => {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const old = await generateKeyPair('ES256', { extractable: true });
    signer = await SetSigner.create([
      { kid: 'k-2026', alg: 'RS256', privateKey: await exportPKCS8(privateKey) },
      { kid: 'k-2025', alg: 'ES256', publicKey: await exportSPKI(old.publicKey) },
    ]);
    trusted = { issuer: ISS, audience: ['https://receiver.example/caep'], keys: createLocalJWKSet(signer.jwks()) };
  });

  const receive = async (jws: string, window: ReplayWindow, nowSec = 1772359500) => {
    const { payload, header } = await verifySet(jws, { trusted: (iss) => (iss === trusted.issuer ? trusted : undefined), nowSec });
    if (!window.remember(payload.iss, payload.jti, nowSec)) throw new CaepError('replayed', `jti ${payload.jti} was already received`);
    return { payload, header };
  };

  it('publishes every key (the signing key and a previous one) without private members', () => {
    const jwks = signer.jwks();
    expect(jwks.keys.map((k) => [k.kid, k.alg, k.use, k.kty])).toEqual([
      ['k-2026', 'RS256', 'sig', 'RSA'],
      ['k-2025', 'ES256', 'sig', 'EC'],
    ]);
    for (const k of jwks.keys) expect(k).not.toHaveProperty('d');
  });

  it('signs SETs the receiver verifies, and rejects the same jti twice', async () => {
    const [d] = draftsForRevocation(revocation('session', 's1'), subjectOptions);
    const jws = await signer.sign(setPayload(d!, addressing));
    const window = new ReplayWindow(7 * 86_400, 1000);
    const { payload, header } = await receive(jws, window);
    expect(header).toEqual({ alg: 'RS256', kid: 'k-2026', typ: 'secevent+jwt' });
    expect(payload.events[CaepEventType.sessionRevoked]).toBeDefined();
    await expect(receive(jws, window)).rejects.toMatchObject({ code: 'replayed' });
  });

  it('rejects a forged signature, an unknown issuer, another audience, a stale iat and the wrong typ with their RFC 8935 codes', async () => {
    const [d] = draftsForRevocation(revocation('session', 's1'), subjectOptions);
    const good = await signer.sign(setPayload(d!, addressing));
    const [h, p, s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), aud: 'https://receiver.example/caep', txn: 'forged' })).toString('base64url')}.${s}`;
    const window = () => new ReplayWindow(86_400, 10);
    await expect(receive(forged, window())).rejects.toMatchObject({ code: 'invalid_key' });
    await expect(receive(await signer.sign(setPayload(d!, { ...addressing, issuer: 'https://evil.example' })), window())).rejects.toMatchObject({ code: 'invalid_issuer' });
    await expect(receive(await signer.sign(setPayload(d!, { ...addressing, audience: 'https://someone-else' })), window())).rejects.toMatchObject({ code: 'invalid_audience' });
    await expect(receive(good, window(), 1772359440 + 8 * 86_400)).rejects.toMatchObject({ code: 'invalid_request' });
    const otherSigner = await SetSigner.create([{ kid: 'k-2026', alg: 'EdDSA', privateKey: await exportPKCS8((await generateKeyPair('EdDSA', { extractable: true })).privateKey) }]);
    await expect(receive(await otherSigner.sign(setPayload(d!, addressing)), window())).rejects.toMatchObject({ code: 'invalid_key' });
    const jwtTyped = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k-2026', typ: 'JWT' })).toString('base64url')}.${p}.${s}`;
    await expect(receive(jwtTyped, window())).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(receive('not a jws', window())).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses configurations it cannot sign with', async () => {
    await expect(SetSigner.create([])).rejects.toMatchObject({ code: 'BAD_KEY' });
    await expect(SetSigner.create([{ kid: 'a', alg: 'RS256', privateKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }])).rejects.toMatchObject({ code: 'BAD_KEY' });
  });
});

describe('ReplayWindow', () => {
  it('forgets ids older than the window and, when full, raises the horizon', () => {
    const w = new ReplayWindow(100, 2);
    expect(w.remember('i', 'a', 1000)).toBe(true);
    expect(w.remember('i', 'a', 1050)).toBe(false);
    expect(w.remember('i', 'a', 1101)).toBe(true); // received more than 100 s ago: forgotten
    expect(w.horizonSec(1101)).toBe(1001);
    w.remember('i', 'b', 1102);
    w.remember('i', 'c', 1103);
    expect(w.size).toBe(2);
    expect(w.horizonSec(1103)).toBe(1101);
  });
});
