import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { oktaAdapter } from '../src/okta/oktaAdapter.js';
import { ev, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const O = 'livescope-adapter/okta';

describe('okta system log: the real samples', () => {
  it('panther-okta-system-api-token-create.json: the API token becomes a service-account identity owned by its creator', () => {
    expect(mapFixture(oktaAdapter(), 'okta-system-log/panther-okta-system-api-token-create.json')).toEqual([
      {
        events: [
          ev(O, 'okta:2a992f80-d1ad-4f62-900e-8c68bb72a21b/created', 'identity.created', 'okta:api-token/00Tpki36zlWjhjQ1u2p4', '2021-01-08T21:28:34.875Z', {
            kind: 'service-account',
            name: 'test_key',
            namespace: 'okta',
            owner: 'user@example.com',
            labels: { source: 'okta', 'okta.token_id': '00Tpki36zlWjhjQ1u2p4' },
          }),
        ],
      },
    ]);
  });

  it('panther-okta-system-api-token-revoke.json: the revoked token is deleted (same uuid as the create sample, different event id)', () => {
    expect(mapFixture(oktaAdapter(), 'okta-system-log/panther-okta-system-api-token-revoke.json')).toEqual([
      { events: [ev(O, 'okta:2a992f80-d1ad-4f62-900e-8c68bb72a21b/deleted', 'identity.deleted', 'okta:api-token/00Tpki36zlWjhjQ1u2p4', '2021-01-08T21:28:34.875Z', { reason: 'Okta API token revoked by user@example.com' })] },
    ]);
  });
});

describe('okta system log: service apps (client credentials), which the samples lack', () => {
  const grant = (uuid: string, result: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      uuid,
      published: '2026-02-02T08:00:00.000Z',
      eventType: 'app.oauth2.as.token.grant.access_token',
      actor: { id: '0oa1svcapp', type: 'PublicClientApp', alternateId: '0oa1svcapp', displayName: 'billing-sync' },
      outcome: { result, ...(result === 'SUCCESS' ? {} : { reason: 'no_matching_policy' }) },
      transaction: { id: 'tx-9' },
      debugContext: { debugData: { grantType: 'client_credentials', grantedScopes: 'okta.users.read' } },
      target: [{ id: 'AT.abc', type: 'access_token', alternateId: 'unknown', displayName: 'Access Token', detailEntry: { expires: '2026-02-02T09:00:00.000Z' } }],
      ...extra,
    });

  it('maps a token grant to a session of the service app, and a denied grant to out-of-scope evidence', () => {
    const out = outcomes(mapText(oktaAdapter(), [grant('u1', 'SUCCESS'), grant('u2', 'FAILURE')].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([
      {
        events: [
          ev(O, 'okta:u1/identity-d5271c66fd6ae5f5', 'identity.created', 'okta:0oa1svcapp', '2026-02-02T08:00:00.000Z', {
            kind: 'workload',
            name: 'billing-sync',
            namespace: 'okta',
            owner: 'unassigned',
            labels: { source: 'okta', 'okta.actor_type': 'PublicClientApp', 'okta.client_id': '0oa1svcapp' },
          }),
          ev(O, 'okta:u1/session', 'session.started', 'okta:0oa1svcapp', '2026-02-02T08:00:00.000Z', { sessionId: 'okta:tx-9', system: 'okta', expiresAt: '2026-02-02T09:00:00.000Z', tokenId: 'AT.abc', task: 'okta.users.read' }),
        ],
      },
      {
        events: [
          ev(O, 'okta:u2/denied', 'enforcement.decisions', 'okta:0oa1svcapp', '2026-02-02T08:00:00.000Z', {
            enforcerId: 'okta',
            windowStart: '2026-02-02T08:00:00.000Z',
            windowEnd: '2026-02-02T08:00:00.000Z',
            decisions: [{ action: 'okta:app.oauth2.as.token.grant.access_token', resource: 'scopes:okta.users.read', allowed: 0, denied: 1, reason: 'no_matching_policy' }],
          }),
        ],
      },
    ]);
  });

  it("skips people's events and dead-letters what is not a LogEvent", () => {
    const human = JSON.stringify({ uuid: 'h1', published: '2026-02-02T08:00:00Z', eventType: 'user.session.start', actor: { id: '00u1', type: 'User' }, outcome: { result: 'SUCCESS' } });
    const out = outcomes(mapText(oktaAdapter(), [human, '{"uuid":"x"}'].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[0]).toEqual({ skipped: { code: 'human', field: 'actor.alternateId', message: 'actor.type User (00u1) without an API token (transaction.detail.requestApiTokenId): a person' } });
    expect(out[1]).toMatchObject({ deadLetter: { reason: 'schema-invalid' } });
  });
});
