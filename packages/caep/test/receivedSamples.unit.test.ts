import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mapReceivedSet } from '../src/mapReceivedSet.js';
import { SetPayload } from '../src/SetPayload.js';
import { validateSet } from '../src/validateSet.js';
import { CAEP_FIXTURES, caepSample, caepSamples } from './support.js';

const R = 'livescope-receiver/ssf';
const ev = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ({ specversion: '1.0', id, type, source: R, time, subject, data });
const IDP = 'caep:d8c7e43978f5ef78626c6ce693e44cea';
const IDP2 = 'caep:65b2f8d992fddaac8cc7b34be803f945';

/** Every CAEP/SSF sample and what the receiver makes of it (default policy: identity = the subject's value). */
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const SSF = 'https://schemas.openid.net/secevent/ssf/event-type/';
/** Accepted with no effect: the reason and the field of the event that decided it. */
const noEffect = (uri: string, member: string, message: string) => ({ events: [], skipped: { code: 'no-effect', field: `events["${uri}"]${member}`, message } });
const unmapped = (uri: string) => ({ ...noEffect(uri, '', `event type ${uri} has no livescope mapping`), unmapped: true });
const control = (uri: string, event: Record<string, unknown>) => ({ events: [], control: { type: uri, event }, skipped: { code: 'no-effect', field: `events["${uri}"]`, message: 'SSF stream control event' } });

/** Every CAEP/SSF sample and what the receiver makes of it (default policy: identity = the subject's value). */
const expected: Record<string, unknown> = {
  'caep-assurance-level-change-custom.json': noEffect(`${CAEP}assurance-level-change`, '.change_direction', 'assurance-level-change maps only when it increases for a named session'),
  'caep-assurance-level-change-increase.json': noEffect(`${CAEP}assurance-level-change`, '.change_direction', 'assurance-level-change maps only when it increases for a named session'),
  'caep-credential-change-fido2.json': noEffect(`${CAEP}credential-change`, '.change_type', 'credential-change create needs no livescope event'),
  // Device compliance is about devices: accepted, no livescope event.
  'caep-device-compliance-change.json': unmapped(`${CAEP}device-compliance-change`),
  'caep-risk-level-change.json': { events: [ev(`${IDP}/risk`, 'telemetry.risk-scored', 'jane.doe@example.com', '2021-03-09T15:49:51.000Z', { score: 20, model: 'caep:https://idp.example.com/123456789/' })] },
  'caep-session-established.json': unmapped(`${CAEP}session-established`),
  'caep-session-presented.json': unmapped(`${CAEP}session-presented`),
  // No session member: the revocation cannot end a livescope session, it raises an anomaly policies can act on.
  'caep-session-revoked-complex-subject-user-device.json': {
    events: [ev(`${IDP}/anomaly`, 'telemetry.anomaly-detected', 'jane.smith@example.com', '2021-03-09T15:49:51.000Z', { anomalyId: IDP, kind: 'caep-session-revoked', severity: 'high', expiresAt: '2021-03-10T15:49:51.000Z' })],
  },
  'caep-session-revoked-simple-subject.json': {
    events: [ev(`${IDP}/anomaly`, 'telemetry.anomaly-detected', 'dMTlD|1600802906337.16|16008.16', '2021-03-09T15:49:51.000Z', { anomalyId: IDP, kind: 'caep-session-revoked', severity: 'high', expiresAt: '2021-03-10T15:49:51.000Z' })],
  },
  'caep-session-revoked-sub-claim.json': {
    events: [
      ev(`${IDP}/session-ended`, 'session.ended', '99beb27c-c1c2-4955-882a-e0dc4996fcbc', '2021-03-09T15:49:51.000Z', {
        sessionId: 'dMTlD|1600802906337.16|16008.16',
        reason: 'CAEP session-revoked from https://idp.example.com/123456789/: Landspeed Policy Violation: C076E82F',
      }),
    ],
  },
  'caep-token-claims-change-oidc-optional.json': unmapped(`${CAEP}token-claims-change`),
  'caep-token-claims-change-oidc.json': unmapped(`${CAEP}token-claims-change`),
  'caep-token-claims-change-saml.json': unmapped(`${CAEP}token-claims-change`),
  'ssf-set-array-aud.json': control(`${SSF}verification`, { state: 'VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=' }),
  'ssf-set-caep-event-with-properties.json': unmapped(`${CAEP}token-claims-change`),
  'ssf-set-complex-subject.json': {
    events: [ev(`${IDP2}/anomaly`, 'telemetry.anomaly-detected', 'jane.smith@example.com', '2020-09-24T19:30:10.000Z', { anomalyId: IDP2, kind: 'caep-session-revoked', severity: 'high', expiresAt: '2020-09-25T19:30:10.000Z' })],
  },
  'ssf-set-proprietary-subject-format.json': unmapped(`${CAEP}token-claims-change`),
  // The phone number is made id-safe (spaces percent-encoded). Without a producer key the receiver raises the fallback instead.
  'ssf-set-risc-phone-subject.json': {
    events: [ev(`${IDP2}/disabled`, 'identity.disabled', '+1%20206%20555%200123', '2018-03-06T19:20:19.000Z', { reason: 'RISC account-disabled from https://idp.example.com/: hijacking' })],
    fallback: [ev(`${IDP2}/anomaly`, 'telemetry.anomaly-detected', '+1%20206%20555%200123', '2018-03-06T19:20:19.000Z', { anomalyId: IDP2, kind: 'risc-account-disabled', severity: 'critical', expiresAt: '2018-03-07T19:20:19.000Z' })],
  },
  'ssf-set-simple-subject.json': { events: [ev(`${IDP2}/enabled`, 'identity.enabled', 'foo@example.com', '2018-03-06T19:20:19.000Z', { reason: 'RISC account-enabled from https://idp.example.com/' })] },
  'ssf-set-stream-updated.json': control(`${SSF}stream-updated`, { status: 'paused', reason: 'Internal error' }),
  'ssf-set-subject-with-property.json': unmapped(`${CAEP}token-claims-change`),
  'ssf-set-verification.json': control(`${SSF}verification`, { state: 'VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=' }),
};

describe('received SETs: every CAEP/SSF sample', () => {
  it('has an expectation for every sample file', () => {
    expect(caepSamples()).toEqual(Object.keys(expected).sort());
  });
  for (const file of Object.keys(expected)) {
    it(file, () => {
      const value = caepSample(file);
      expect(validateSet(value)).toEqual([]);
      expect(mapReceivedSet(SetPayload.parse(value))).toEqual(expected[file]);
    });
  }
  it('maps with a policy: identity and session templates, risk scores', () => {
    const policy = { identityTemplate: 'okta:{value}', sessionTemplate: 'okta-session:{value}', riskScores: { low: 5, high: 95 }, anomalyTtlMs: 60_000 };
    expect(mapReceivedSet(SetPayload.parse(caepSample('caep-session-revoked-sub-claim.json')), policy).events[0]).toMatchObject({ subject: 'okta:99beb27c-c1c2-4955-882a-e0dc4996fcbc', data: { sessionId: 'okta-session:dMTlD|1600802906337.16|16008.16' } });
    expect(mapReceivedSet(SetPayload.parse(caepSample('caep-risk-level-change.json')), policy).events[0]).toMatchObject({ data: { score: 5 } });
  });
  it.runIf(existsSync('/work/shared/testdata/real-formats/caep'))('the fixtures are byte-for-byte copies of the shared test data', () => {
    for (const f of caepSamples()) expect(readFileSync(`${CAEP_FIXTURES}${f}`)).toEqual(readFileSync(`/work/shared/testdata/real-formats/caep/${f}`));
  });
});
