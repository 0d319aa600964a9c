import { createLocalJWKSet, exportPKCS8, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaepError } from '../src/CaepError.js';
import { normalizeEventType, RiscEventType, SsfEventType } from '../src/eventTypes.js';
import { mapReceivedSet } from '../src/mapReceivedSet.js';
import { SetPayload } from '../src/SetPayload.js';
import { SetSigner } from '../src/SetSigner.js';
import { validateSet } from '../src/validateSet.js';
import { verifySet } from '../src/verifySet.js';

/**
 * Issue 17, class "signals accepted and then dropped": one test each. The SETs are written in the
 * shapes deployed transmitters send (Google's RISC transmitter puts a legacy `subject` with
 * `subject_type` inside the event; pre-final SSF drafts used `…/secevent/sse/…` URIs).
 */
const risc = (type: string, subject: unknown, extra: Record<string, unknown> = {}) =>
  SetPayload.parse({ iss: 'https://accounts.google.com/', aud: '123456789-abcedfgh.apps.googleusercontent.com', iat: 1_508_184_845, jti: '756E69717565206964656E746966696572', events: { [type]: { subject, ...extra } } });

describe('class: signals accepted and then dropped', () => {
  it('maps a verified SET whose subject is the legacy per-event RISC form (subject_type iss-sub)', () => {
    const p = risc(RiscEventType.accountDisabled, { subject_type: 'iss-sub', iss: 'https://accounts.google.com/', sub: '7375626A656374' }, { reason: 'hijacking' });
    expect(validateSet(p)).toEqual([]);
    const m = mapReceivedSet(p, { identityTemplate: 'google:{value}', sessionTemplate: '{value}', riskScores: {}, anomalyTtlMs: 3_600_000 });
    expect(m.events).toMatchObject([{ type: 'identity.disabled', subject: 'google:7375626A656374', data: { reason: 'RISC account-disabled from https://accounts.google.com/: hijacking' } }]);
    for (const legacy of [{ subject_type: 'email', email: 'ci-bot@example.com' }, { subject_type: 'phone', phone_number: '+1 206 555 0123' }, { subject_type: 'id_token_claims', iss: 'https://accounts.google.com/', sub: 'abc' }, { format: 'iss-sub', iss: 'https://i', sub: 'x' }]) {
      expect(mapReceivedSet(risc(RiscEventType.credentialCompromise, legacy)).events, JSON.stringify(legacy)).toHaveLength(1);
    }
  });

  it('maps RISC account-credential-change-required to a high anomaly policies can act on', () => {
    const m = mapReceivedSet(risc(RiscEventType.accountCredentialChangeRequired, { subject_type: 'email', email: 'ci-bot@example.com' }));
    expect(m.events).toMatchObject([{ type: 'telemetry.anomaly-detected', subject: 'ci-bot@example.com', data: { kind: 'risc-credential-change-required', severity: 'high' } }]);
  });

  describe('flags the SSF-forbidden exp (and sub) claims', () => {
    let signer: SetSigner;
    beforeAll(async () => {
      signer = await SetSigner.create([{ kid: 'k1', alg: 'ES256', privateKey: await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey) }]);
    });
    const base = { iss: 'https://tx.example', aud: 'https://rx.example', iat: 1_700_000_000, jti: 'j-exp', sub_id: { format: 'email', email: 'a@example.com' }, events: { [RiscEventType.credentialCompromise]: {} } };
    it('validateSet names the claim', () => {
      expect(validateSet({ ...base, exp: 1_700_000_600 })).toEqual(['forbidden claim exp (SSF 1.0: "The exp claim MUST NOT be used in SETs")']);
    });
    it('verifySet rejects it with invalid_request', async () => {
      const trusted = () => ({ issuer: 'https://tx.example', audience: ['https://rx.example'], keys: createLocalJWKSet(signer.jwks()) });
      const jws = await signer.sign(SetPayload.parse({ ...base, exp: 1_700_000_600 }));
      const err = await verifySet(jws, { trusted, nowSec: 1_700_000_010 }).catch((e: unknown) => e);
      expect(CaepError.is(err) && err.code).toBe('invalid_request');
      expect((err as Error).message).toMatch(/carries exp/);
      await expect(verifySet(await signer.sign(SetPayload.parse(base)), { trusted, nowSec: 1_700_000_010 })).resolves.toBeDefined();
    });
  });

  it('recognises the pre-final …/secevent/sse/event-type/… URIs (and http://, trailing slashes)', () => {
    expect(normalizeEventType('https://schemas.openid.net/secevent/sse/event-type/verification')).toBe(SsfEventType.verification);
    expect(normalizeEventType('http://schemas.openid.net/secevent/sse/event-type/stream-updated/')).toBe(SsfEventType.streamUpdated);
    expect(normalizeEventType('https://schemas.openid.net/secevent/risc/event-type/tokens-revoked')).toBe(RiscEventType.tokensRevoked);
    const p = SetPayload.parse({ iss: 'https://tx', aud: 'rx', iat: 1, jti: 'v1', sub_id: { format: 'opaque', id: 'stream-1' }, events: { 'https://schemas.openid.net/secevent/sse/event-type/verification': { state: 's-1' } } });
    expect(validateSet(p)).toEqual([]);
    expect(mapReceivedSet(p).control).toEqual({ type: SsfEventType.verification, event: { state: 's-1' } });
  });

  it('takes the known type among alternative URIs of one event', () => {
    const p = SetPayload.parse({ iss: 'https://tx', aud: 'rx', iat: 1, jti: 'alt', sub_id: { format: 'email', email: 'a@example.com' }, events: { 'urn:example:vendor:disabled': {}, [RiscEventType.accountDisabled]: {} } });
    expect(mapReceivedSet(p).events).toMatchObject([{ type: 'identity.disabled' }]);
  });

  it('refuses an actionable SET whose subject names no principal, instead of accepting it with no effect', () => {
    const p = SetPayload.parse({ iss: 'https://tx', aud: 'rx', iat: 1, jti: 'dev', sub_id: { format: 'complex', device: { format: 'opaque', id: 'dev-1' } }, events: { [RiscEventType.credentialCompromise]: {} } });
    expect(mapReceivedSet(p)).toEqual({ events: [], refused: { err: 'invalid_request', description: 'credential-compromise not applied: subject format "complex" (sub_id) names no principal this receiver can map' } });
  });
});
