import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { entraAdapter } from '../src/entra/entraAdapter.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const S = 'livescope-adapter/entra';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(S, id, type, subject, time, data);
const TENANT = '4d3bac44-0230-4732-9e70-cc00736f0a97';
const mi = (name: string, appId: string) => ({ kind: 'workload', name, namespace: TENANT, owner: 'unassigned', labels: { source: 'entra', 'entra.app_id': appId, 'entra.tenant_id': TENANT, 'entra.principal': 'managed-identity' } });

describe('entra sign-in logs: every public sample', () => {
  it('datadog-managed-identity-sign-in-logs.jsonl: managed-identity tokens are sessions of 24 h; a failed request is out-of-scope evidence', () => {
    const out = mapFixture(entraAdapter(), 'entra/datadog-managed-identity-sign-in-logs.jsonl');
    expect(out).toHaveLength(4);
    expect(out[0]).toEqual({
      events: [
        e('entra:d46cd81a-a988-48f8-a612-7e0db6cf7600/identity-472cfac15c531959', 'identity.created', 'entra:mi/185d95a0-d1a0-4153-b952-3ec34122e376', '2025-04-22T19:59:56.950Z', mi('azurepolicy-potter-aks', '041d2fa0-ca18-4c0a-81ac-b9546c06f3ed')),
        e('entra:d46cd81a-a988-48f8-a612-7e0db6cf7600/session', 'session.started', 'entra:mi/185d95a0-d1a0-4153-b952-3ec34122e376', '2025-04-22T19:59:56.950Z', {
          sessionId: 'entra:token/Gths1Iip-EimEn4Nts92AA',
          system: 'entra',
          expiresAt: '2025-04-23T19:59:56.950Z',
          tokenId: 'Gths1Iip-EimEn4Nts92AA',
          task: 'token for Microsoft Policy Insights Provider Data Plane',
        }),
        e('entra:d46cd81a-a988-48f8-a612-7e0db6cf7600/activity', 'telemetry.activity', 'entra:mi/185d95a0-d1a0-4153-b952-3ec34122e376', '2025-04-22T19:59:56.950Z', { action: 'entra:sign-in', resource: 'Microsoft Policy Insights Provider Data Plane (8cae6e77-e04e-42ce-b5cb-50d82bce26b1)' }),
      ],
    });
    expect(out[1]).toMatchObject({ events: [{ subject: 'entra:mi/73115f98-dd9e-4c3d-9b03-5d54a81342ae', data: { name: 'omsagent-aks' } }, { data: { tokenId: 'p0CoVChbAECSIHRvveSzAA' } }, { type: 'telemetry.activity' }] });
    expect(out[2]).toMatchObject({ events: [{ data: { name: 'azurepolicy-albert-westus2-aks-two' } }, { type: 'session.started' }, { type: 'telemetry.activity' }] });
    expect(out[3]).toEqual({
      events: [
        e('entra:0e51fdb1-db36-4482-921f-2375db127700/identity-c8adda06bb35220f', 'identity.created', 'entra:mi/73c64364-0da7-4ab8-865f-b1471c24f343', '2025-04-22T20:00:02.776Z', mi('my-test', '29031b34-728e-4312-8529-afdeb9c51534')),
        e('entra:0e51fdb1-db36-4482-921f-2375db127700/denied', 'enforcement.decisions', 'entra:mi/73c64364-0da7-4ab8-865f-b1471c24f343', '2025-04-22T20:00:02.776Z', {
          enforcerId: 'entra',
          windowStart: '2025-04-22T20:00:02.776Z',
          windowEnd: '2025-04-22T20:00:02.776Z',
          decisions: [{ action: 'entra:sign-in', resource: 'Azure Government Cloud Management API (40a69793-8fe6-4db1-9591-dbc5c57b17d8)', allowed: 0, denied: 1, reason: 'AADSTS7000232' }],
        }),
      ],
    });
  });

  it('datadog-service-principal-sign-in-logs.jsonl: client-credential sign-ins are 1 h sessions of the service principal', () => {
    const out = mapFixture(entraAdapter(), 'entra/datadog-service-principal-sign-in-logs.jsonl');
    expect(out[0]).toEqual({
      events: [
        e('entra:9c74bf4a-bcbb-4952-9461-b5babc961f00/identity-31441da1b0f0c10e', 'identity.created', 'entra:sp/2af8a6bf-7396-4e79-885d-2f871a8b74a2', '2025-04-11T03:19:15.332Z', {
          kind: 'service-account',
          name: 'Datadog Audit Logs (AP1)',
          namespace: TENANT,
          owner: 'unassigned',
          labels: { source: 'entra', 'entra.app_id': 'a97b95a1-16a4-4cda-841b-2cdbd93019d4', 'entra.tenant_id': TENANT, 'entra.principal': 'service-principal' },
        }),
        e('entra:9c74bf4a-bcbb-4952-9461-b5babc961f00/session', 'session.started', 'entra:sp/2af8a6bf-7396-4e79-885d-2f871a8b74a2', '2025-04-11T03:19:15.332Z', { sessionId: 'entra:token/Sr90nLu8UkmUYbW6vJYfAA', system: 'entra', expiresAt: '2025-04-11T04:19:15.332Z', tokenId: 'Sr90nLu8UkmUYbW6vJYfAA', task: 'token for Office 365 Management APIs' }),
        e('entra:9c74bf4a-bcbb-4952-9461-b5babc961f00/activity', 'telemetry.activity', 'entra:sp/2af8a6bf-7396-4e79-885d-2f871a8b74a2', '2025-04-11T03:19:15.332Z', { action: 'entra:sign-in', resource: 'Office 365 Management APIs (c5393580-f805-4401-95e8-94b7a6ef2fc2)' }),
      ],
    });
    expect(out.slice(1)).toMatchObject([{ events: [{ subject: 'entra:sp/04f282b1-0087-4024-afd0-03ba1cf1bdb8' }, {}, {}] }, { events: [{ subject: 'entra:sp/46aeb75f-aec3-41e6-bada-cc493a1ac830' }, { data: { task: 'token for Microsoft Graph' } }, {}] }]);
  });

  it('datadog-user-sign-in-logs.jsonl: a person signing in is skipped with the category', () => {
    expect(mapFixture(entraAdapter(), 'entra/datadog-user-sign-in-logs.jsonl')).toEqual([{ skipped: { code: 'human', field: 'userPrincipalName', message: 'category SignInLogs: a user sign-in by harry.potter@hogwarts.com (a person)' } }]);
  });

  it('panther-service-principal-sign-in-failure.json: Panther-lowercased keys are read; error 7000215 (invalid secret) is out-of-scope evidence', () => {
    expect(mapFixture(entraAdapter({ announce: 'never' }), 'entra/panther-service-principal-sign-in-failure.json')).toEqual([
      {
        events: [
          e('entra:36658c78-02d9-4d8f-84ee-5ca4a3fdefef/denied', 'enforcement.decisions', 'entra:sp/b1c34143-e405-4058-8e29-84596ad737b8', '2023-07-26T22:58:30.983Z', {
            enforcerId: 'entra',
            windowStart: '2023-07-26T22:58:30.983Z',
            windowEnd: '2023-07-26T22:58:30.983Z',
            decisions: [{ action: 'entra:sign-in', resource: 'Azure Storage (037694de-8c7d-498d-917d-edb650090fa5)', allowed: 0, denied: 1, reason: 'AADSTS7000215' }],
          }),
        ],
      },
    ]);
  });

  it('panther-service-principal-sign-in-success.json: the credential key id and address are network facts of the sign-in', () => {
    const results = mapText(entraAdapter({ announce: 'never' }), fixture('entra/panther-service-principal-sign-in-success.json'), { receivedAt: RECEIVED_AT });
    expect(results[0]!.events.map((x) => x.type)).toEqual(['session.started', 'telemetry.activity']);
    expect(results[0]!.uses).toEqual([{ identityId: 'entra:sp/4b6986ec-c49c-40c0-89ce-b2ac51213e39', credentialId: 'entra-credential:2afc776a-4e79-4588-b2ad-f62c94d6bea8', sourceIp: '12.12.12.12', time: '2023-07-27T13:59:53.691Z', recordKey: 'entra:55270060-d8fe-435e-9bf2-219a1d456b60', action: 'sign-in to Office 365 Management APIs' }]);
  });
});

describe('entra sign-in logs: Graph objects, Log Analytics rows and wrappers', () => {
  const graph = { id: 'g-1', createdDateTime: '2026-02-01T08:00:00Z', appId: 'app-1', appDisplayName: 'billing-sync', servicePrincipalId: 'sp-1', servicePrincipalName: 'billing-sync', ipAddress: '198.51.100.4', signInEventTypes: ['servicePrincipal'], status: { errorCode: 0 }, resourceDisplayName: 'Microsoft Graph', uniqueTokenIdentifier: 'uti-1', clientCredentialType: 'certificate' };
  const laRow = { TimeGenerated: '2026-02-01T08:05:00Z', Type: 'AADManagedIdentitySignInLogs', Id: 'la-1', ServicePrincipalId: 'mi-1', ServicePrincipalName: 'vm-agent', AppId: 'app-2', ResultType: '0', ResourceDisplayName: 'Azure Key Vault', UniqueTokenIdentifier: 'uti-2' };
  it('maps a Microsoft Graph page ({"value": [...]}) and a Log Analytics row', () => {
    const out = outcomes(mapText(entraAdapter({ announce: 'never' }), [JSON.stringify({ value: [graph] }), JSON.stringify(laRow)].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[0]).toMatchObject({ events: [{ subject: 'entra:sp/sp-1', data: { sessionId: 'entra:token/uti-1', task: 'token for Microsoft Graph (certificate)', expiresAt: '2026-02-01T09:00:00.000Z' } }, { type: 'telemetry.activity' }] });
    expect(out[1]).toMatchObject({ events: [{ subject: 'entra:mi/mi-1', data: { sessionId: 'entra:token/uti-2', expiresAt: '2026-02-02T08:05:00.000Z' } }, { type: 'telemetry.activity', data: { resource: 'Azure Key Vault' } }] });
  });
  it('refuses other Entra categories and records that are not sign-ins, with the reason', () => {
    const out = outcomes(mapText(entraAdapter(), [JSON.stringify({ category: 'AuditLogs', properties: {} }), JSON.stringify({ hello: 1 })].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([
      { deadLetter: { reason: 'unsupported', message: 'Entra log category AuditLogs is not a sign-in log (ServicePrincipalSignInLogs, ManagedIdentitySignInLogs, SignInLogs, NonInteractiveUserSignInLogs)' } },
      { deadLetter: { reason: 'unsupported', message: 'not an Entra sign-in: no category, Type, signInEventTypes, servicePrincipalId or userPrincipalName' } },
    ]);
  });
});
