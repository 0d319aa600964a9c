import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { gcpAuditAdapter } from '../src/gcp-audit/gcpAuditAdapter.js';
import { ev, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const S = 'livescope-adapter/gcp-audit';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(S, id, type, subject, time, data);
const sa = (email: string, namespace: string) => ({ kind: 'service-account', name: email.split('@')[0], namespace, owner: 'unassigned', labels: { source: 'gcp', 'gcp.email': email } });
const SOME = 'gcp:sa/some-project@company.iam.gserviceaccount.com';
const MY = 'gcp:sa/my-service-account@my-project.iam.gserviceaccount.com';

describe('gcp audit logs: every public sample', () => {
  const cases: Record<string, unknown[]> = {
    // A service account minting a JWT with its own key: a credential (session) of itself, used from 1.2.3.4.
    'panther-iamcredentials-signjwt-granted.json': [
      {
        events: [
          e('gcp:1hu88qbef4d2o-17854fea/identity-93a16345032bd5b6', 'identity.created', SOME, '2024-02-26T17:15:16.314Z', sa('some-project@company.iam.gserviceaccount.com', 'company')),
          e('gcp:1hu88qbef4d2o-17854fea/session', 'session.started', SOME, '2024-02-26T17:15:16.314Z', { sessionId: 'gcp:credential/1hu88qbef4d2o-17854fea', system: 'gcp-iam', expiresAt: '2024-02-26T18:15:16.314Z', task: `SignJwt by ${SOME}` }),
        ],
      },
    ],
    // `granted: false` in authorizationInfo: a denial, out-of-scope evidence.
    'panther-iamcredentials-signjwt-not-granted.json': [
      {
        events: [
          e('gcp:1hu88qbef4d2o-17854fea/identity-93a16345032bd5b6', 'identity.created', SOME, '2024-02-26T17:15:16.314Z', sa('some-project@company.iam.gserviceaccount.com', 'company')),
          e('gcp:1hu88qbef4d2o-17854fea/denied', 'enforcement.decisions', SOME, '2024-02-26T17:15:16.314Z', {
            enforcerId: 'gcp-iam',
            windowStart: '2024-02-26T17:15:16.314Z',
            windowEnd: '2024-02-26T17:15:16.314Z',
            decisions: [{ action: 'iam.serviceAccounts.signJwt', resource: 'projects/-/serviceAccounts/114885146936855121342', allowed: 0, denied: 1, reason: 'permission iam.serviceAccounts.signJwt not granted' }],
          }),
        ],
      },
    ],
    // GKE's metadata server minting a token of a service account; the sanitized principalSubject names no identity.
    'panther-iamcredentials-generateaccesstoken-gke-metadata-server.json': [
      {
        events: [
          e('gcp:1dy9ihte4iyjz-6e020a99/identity-30b61cee0e6da04a', 'identity.created', 'gcp:sa/sample@email.com', '2024-08-29T19:30:36.339Z', { ...sa('sample@email.com', 'sample_project_id') }),
          e('gcp:1dy9ihte4iyjz-6e020a99/session', 'session.started', 'gcp:sa/sample@email.com', '2024-08-29T19:30:36.339Z', { sessionId: 'gcp:credential/1dy9ihte4iyjz-6e020a99', system: 'gcp-iam', expiresAt: '2024-08-29T20:30:36.339Z', task: 'GenerateAccessToken by an unnamed caller' }),
        ],
      },
    ],
    'panther-iam-createserviceaccount-denied.json': [
      {
        events: [
          e('gcp:xxxxxxxxxxxx-bf66a7c1/identity-a919f68caead23f2', 'identity.created', 'gcp:sa/test-no-perms@test-project-123456.iam.gserviceaccount.com', '2023-05-24T21:12:55.145Z', sa('test-no-perms@test-project-123456.iam.gserviceaccount.com', 'test-project-123456')),
          e('gcp:xxxxxxxxxxxx-bf66a7c1/denied', 'enforcement.decisions', 'gcp:sa/test-no-perms@test-project-123456.iam.gserviceaccount.com', '2023-05-24T21:12:55.145Z', {
            enforcerId: 'gcp-iam',
            windowStart: '2023-05-24T21:12:55.145Z',
            windowEnd: '2023-05-24T21:12:55.145Z',
            decisions: [{ action: 'iam.serviceAccounts.create', resource: 'projects/test-project-123456', allowed: 0, denied: 1, reason: "Permission 'iam.serviceAccounts.create' denied on resource (or it may not exist)." }],
          }),
        ],
      },
    ],
    'panther-iam-createserviceaccount-google-internal.json': [{ skipped: { code: 'unattributed', field: 'protoPayload.authenticationInfo.principalEmail', message: 'iam.serviceAccounts.create call: protoPayload.authenticationInfo names no principal (a Google-internal caller)' } }],
    'panther-iam-update-workload-identity-pool-provider-by-user.json': [
      { skipped: { code: 'human', field: 'protoPayload.authenticationInfo.principalEmail', message: 'iam.workloadIdentityPoolProviders.update call: principalEmail user@example.com is not a service account: a person' } },
    ],
    // An Azure token exchanged for a federated token: a session of the mapped workload-identity principal.
    'googledocs-wif-sts-exchangetoken-azure.json': [
      {
        events: [
          e('gcp:sha256-a96347dc1c010ba7ea84a330beecafd1/identity-027dccad853e56c0', 'identity.created', 'gcp:wif/1234567890123/azure-pool/a1234bcd-5678-9012-efa3-4b5cd678ef9a', RECEIVED_AT, {
            kind: 'workload',
            name: 'a1234bcd-5678-9012-efa3-4b5cd678ef9a',
            namespace: 'azure-pool',
            owner: 'unassigned',
            labels: { source: 'gcp', 'gcp.workload_identity_pool': 'azure-pool', 'gcp.project_number': '1234567890123' },
          }),
          e('gcp:sha256-a96347dc1c010ba7ea84a330beecafd1/session', 'session.started', 'gcp:wif/1234567890123/azure-pool/a1234bcd-5678-9012-efa3-4b5cd678ef9a', RECEIVED_AT, {
            sessionId: 'gcp:federated/sha256-a96347dc1c010ba7ea84a330beecafd1',
            system: 'gcp-sts',
            expiresAt: '2026-01-01T01:00:00.000Z',
            task: 'federated through projects/1234567890123/locations/global/workloadIdentityPools/azure-pool/providers/azure',
          }),
        ],
      },
    ],
    // The federated principal impersonates a service account: a session of the account, held by the principal.
    'googledocs-wif-generateaccesstoken-federated.json': [
      {
        events: [
          e('gcp:sha256-06fe5ed79542c1472ad903ee831ff8c0/identity-bb98cc23f6bc705f', 'identity.created', 'gcp:wif/1234567890123/aws-pool/012345678901', RECEIVED_AT, {
            kind: 'workload',
            name: '012345678901',
            namespace: 'aws-pool',
            owner: 'unassigned',
            labels: { source: 'gcp', 'gcp.workload_identity_pool': 'aws-pool', 'gcp.project_number': '1234567890123' },
          }),
          e('gcp:sha256-06fe5ed79542c1472ad903ee831ff8c0/identity-d5e0acf681e7a03f', 'identity.created', MY, RECEIVED_AT, sa('my-service-account@my-project.iam.gserviceaccount.com', 'my-project')),
          e('gcp:sha256-06fe5ed79542c1472ad903ee831ff8c0/session', 'session.started', MY, RECEIVED_AT, { sessionId: 'gcp:credential/sha256-06fe5ed79542c1472ad903ee831ff8c0', system: 'gcp-iam', expiresAt: '2026-01-01T01:00:00.000Z', task: 'GenerateAccessToken by gcp:wif/1234567890123/aws-pool/012345678901' }),
          e('gcp:sha256-06fe5ed79542c1472ad903ee831ff8c0/activity', 'telemetry.activity', 'gcp:wif/1234567890123/aws-pool/012345678901', RECEIVED_AT, { action: 'iamcredentials:GenerateAccessToken', resource: 'projects/-/serviceAccounts/my-service-account@my-project.iam.gserviceaccount.com' }),
          e('gcp:sha256-06fe5ed79542c1472ad903ee831ff8c0/holder-session', 'session.started', 'gcp:wif/1234567890123/aws-pool/012345678901', RECEIVED_AT, { sessionId: 'gcp:credential/sha256-06fe5ed79542c1472ad903ee831ff8c0', system: 'gcp-iam', expiresAt: '2026-01-01T01:00:00.000Z', task: 'gcp-sa:my-service-account@my-project.iam.gserviceaccount.com' }),
        ],
      },
    ],
    // The impersonated account's own call (the delegator is a workload, not a person).
    'googledocs-wif-pubsub-createtopic-delegated.json': [
      {
        events: [
          e('gcp:sha256-6c85dbc4acc2475fc3eddd07738a0d5e/identity-d5e0acf681e7a03f', 'identity.created', MY, RECEIVED_AT, sa('my-service-account@my-project.iam.gserviceaccount.com', 'my-project')),
          e('gcp:sha256-6c85dbc4acc2475fc3eddd07738a0d5e/activity', 'telemetry.activity', MY, RECEIVED_AT, { action: 'pubsub:CreateTopic', resource: 'projects/my-project/topics/my-topic' }),
        ],
      },
    ],
  };
  for (const [file, expected] of Object.entries(cases)) it(file, () => expect(mapFixture(gcpAuditAdapter(), `gcp-audit/${file}`)).toEqual(expected));
});

describe('gcp audit logs: what the samples lack, written in the same format', () => {
  const entry = (id: string, p: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ insertId: id, logName: 'projects/p1/logs/cloudaudit.googleapis.com%2Fdata_access', timestamp: '2026-03-01T10:00:00Z', resource: { type: 'audited_resource', labels: { project_id: 'p1' } }, protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: {}, ...p }, ...extra });
  const map = (lines: string[]) => outcomes(mapText(gcpAuditAdapter({ announce: 'never' }), lines.join('\n'), { receivedAt: RECEIVED_AT }));

  it('ties a GKE Workload Identity principal to the Kubernetes service account, and a GitHub Actions federation to the CI job', () => {
    const gke = 'principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p1.svc.id.goog/subject/ns/payments/sa/api';
    const gh = 'principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github/subject/repo:octo-org/octo-repo:environment:prod';
    const mint = (id: string, principal: string) => entry(id, { serviceName: 'iamcredentials.googleapis.com', methodName: 'GenerateAccessToken', authenticationInfo: { principalSubject: principal }, request: { name: 'projects/-/serviceAccounts/deployer@p1.iam.gserviceaccount.com', lifetime: '600s' }, response: { expireTime: '2026-03-01T10:10:00Z' } }, { resource: { type: 'service_account', labels: { email_id: 'deployer@p1.iam.gserviceaccount.com', project_id: 'p1' } } });
    const [k, g] = map([mint('gke-1', gke), mint('gh-1', gh)]);
    expect(k).toMatchObject({ events: [{ type: 'session.started', subject: 'gcp:sa/deployer@p1.iam.gserviceaccount.com', data: { expiresAt: '2026-03-01T10:10:00.000Z' } }, { type: 'telemetry.activity', subject: 'k8s:payments/api' }, { type: 'session.started', subject: 'k8s:payments/api', data: { task: 'gcp-sa:deployer@p1.iam.gserviceaccount.com' } }] });
    expect(g).toMatchObject({ events: [{ subject: 'gcp:sa/deployer@p1.iam.gserviceaccount.com' }, { subject: 'github:octo-org/octo-repo@prod' }, { subject: 'github:octo-org/octo-repo@prod', type: 'session.started' }] });
  });

  it('reports a person minting a token of a service account as human use of it, and a person acting through one', () => {
    const mint = entry('h-1', { serviceName: 'iamcredentials.googleapis.com', methodName: 'GenerateAccessToken', authenticationInfo: { principalEmail: 'alice@example.com' }, requestMetadata: { callerIp: '203.0.113.9' }, request: { name: 'projects/-/serviceAccounts/deployer@p1.iam.gserviceaccount.com' } }, { resource: { type: 'service_account', labels: { email_id: 'deployer@p1.iam.gserviceaccount.com' } } });
    const acting = entry('h-2', { serviceName: 'storage.googleapis.com', methodName: 'storage.objects.get', resourceName: 'projects/_/buckets/b/objects/o', authorizationInfo: [{ permission: 'storage.objects.get', granted: true, resource: 'projects/_/buckets/b/objects/o' }], authenticationInfo: { principalEmail: 'deployer@p1.iam.gserviceaccount.com', serviceAccountDelegationInfo: [{ firstPartyPrincipal: { principalEmail: 'alice@example.com' } }] } });
    const [m, a] = map([mint, acting]);
    expect(m).toMatchObject({ events: [{ type: 'session.started' }, { type: 'telemetry.human-use-detected', subject: 'gcp:sa/deployer@p1.iam.gserviceaccount.com', data: { evidence: 'alice@example.com called GenerateAccessToken for this service account', sourceIp: '203.0.113.9' } }] });
    expect(a).toMatchObject({ events: [{ type: 'telemetry.human-use-detected', data: { evidence: 'alice@example.com acted as this service account (storage.objects.get on projects/_/buckets/b/objects/o)' } }, { type: 'telemetry.activity', data: { action: 'storage.objects.get' } }] });
  });

  it('maps Secret Manager reads, Pub/Sub push bodies and entries.list pages; skips failures with the status code', () => {
    const secret = entry('s-1', { serviceName: 'secretmanager.googleapis.com', methodName: 'google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion', resourceName: 'projects/p1/secrets/db/versions/3', authenticationInfo: { principalEmail: 'api@p1.iam.gserviceaccount.com' }, authorizationInfo: [{ permission: 'secretmanager.versions.access', granted: true, resource: 'projects/p1/secrets/db/versions/3' }] });
    const pushed = JSON.stringify({ message: { data: Buffer.from(secret).toString('base64'), messageId: '1' }, subscription: 'projects/p1/subscriptions/audit' });
    const page = JSON.stringify({ entries: [JSON.parse(entry('p-1', { serviceName: 'compute.googleapis.com', methodName: 'v1.compute.instances.list', authenticationInfo: { principalEmail: 'api@p1.iam.gserviceaccount.com' } }))] });
    const failed = entry('f-1', { serviceName: 'compute.googleapis.com', methodName: 'v1.compute.instances.insert', status: { code: 3, message: 'Invalid value' }, authenticationInfo: { principalEmail: 'api@p1.iam.gserviceaccount.com' } });
    const [s, p, l, f] = map([secret, pushed, page, failed]);
    expect(s).toMatchObject({ events: [{ type: 'secret.accessed', data: { secretPath: 'projects/p1/secrets/db/versions/3', operation: 'read', system: 'gcp-secretmanager' } }] });
    expect(p).toEqual(s);
    expect(l).toMatchObject({ events: [{ type: 'telemetry.activity', data: { action: 'compute:v1.compute.instances.list', resource: 'projects/p1' } }] });
    expect(f).toEqual({ skipped: { code: 'failed', field: 'protoPayload.status.code', message: 'protoPayload.status.code 3 (Invalid value): no permission was used' } });
  });
});
