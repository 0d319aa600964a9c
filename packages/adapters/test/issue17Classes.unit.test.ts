import { describe, expect, it } from 'vitest';
import { adapterFor } from '../src/adapterFor.js';
import { cloudTrailAdapter } from '../src/cloudtrail/cloudTrailAdapter.js';
import { mapText } from '../src/common/mapText.js';
import type { SourcedResult } from '../src/common/MappingResult.js';
import { k8sAdapter } from '../src/k8s/k8sAdapter.js';
import { oktaAdapter } from '../src/okta/oktaAdapter.js';
import { outcomes, RECEIVED_AT } from './support.js';

/**
 * One test per class of miss listed in issue 17, with records in the vendors' real shapes (field
 * names, nesting and value formats as the services write them). The CAEP classes are tested in
 * @livescope/caep, the GitHub per-run class in githubOidc.unit.test.ts.
 */
const run = (adapter: Parameters<typeof mapText>[0], records: unknown[]): SourcedResult[] => mapText(adapter, records.map((r) => JSON.stringify(r)).join('\n'), { receivedAt: RECEIVED_AT });

/** An EKS audit event as the control plane logs it (audit.k8s.io/v1, ResponseComplete). */
const eksEvent = (auditID: string, user: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID,
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
  verb: 'get',
  user,
  sourceIPs: ['10.0.12.34'],
  userAgent: 'eks-node-manager/v0.0.0 (linux/amd64) kubernetes/$Format',
  objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  requestReceivedTimestamp: '2026-02-10T09:00:00.000000Z',
  stageTimestamp: '2026-02-10T09:00:00.004000Z',
  annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'EKS Access Policy: allowed by ClusterRoleBinding' },
  ...extra,
});

describe('class: machine identities mistaken for people', () => {
  it('maps EKS controllers (eks:*) as platform agents, not people; eks:support-engineer stays a person', () => {
    const out = outcomes(run(k8sAdapter({ announce: 'never' }), [eksEvent('e1', { username: 'eks:node-manager', uid: 'aws-iam-authenticator:111122223333:AROAEXAMPLE', groups: ['system:authenticated'] }), eksEvent('e2', { username: 'eks:support-engineer', groups: ['system:authenticated'] })]));
    expect(out[0]).toMatchObject({ events: [{ type: 'telemetry.activity', subject: 'k8s:user/eks:node-manager', data: { action: 'k8s:get', resource: 'namespaces/kube-system/configmaps/aws-auth' } }] });
    expect(out[1]).toMatchObject({ skipped: { code: 'human', field: 'user.username' } });
  });

  it('maps an IAM role EKS authenticated (user.extra.canonicalArn) to the CloudTrail identity of the role; an SSO role is a person', () => {
    const iamUser = (role: string) => ({ username: `arn:aws:sts::111122223333:assumed-role/${role}/build-42`, uid: 'aws-iam-authenticator:111122223333:AROAEXAMPLE', groups: ['system:authenticated'], extra: { accessKeyId: ['ASIAEXAMPLEKEY12345'], arn: [`arn:aws:sts::111122223333:assumed-role/${role}/build-42`], canonicalArn: [`arn:aws:iam::111122223333:role/${role}`], principalId: ['AROAEXAMPLE'], sessionName: ['build-42'] } });
    const out = outcomes(run(k8sAdapter({ announce: 'never' }), [eksEvent('e3', iamUser('ci-deployer')), eksEvent('e4', iamUser('AWSReservedSSO_Admin_0123456789abcdef'))]));
    expect(out[0]).toMatchObject({ events: [{ subject: 'aws:111122223333:role/ci-deployer' }] });
    expect(out[1]).toMatchObject({ skipped: { code: 'human', field: 'user.extra.canonicalArn' } });
  });

  it('lets the operator say which other usernames are machines (livescope-ingest --machine-users)', () => {
    const agent = { username: 'gitops-agent', groups: ['system:authenticated'] };
    expect(outcomes(run(k8sAdapter({ announce: 'never' }), [eksEvent('e5', agent)]))[0]).toMatchObject({ skipped: { code: 'human' } });
    expect(outcomes(run(adapterFor('k8s', { announce: 'never', machineUsers: ['gitops-*'] }), [eksEvent('e5', agent)]))[0]).toMatchObject({ events: [{ subject: 'k8s:user/gitops-agent' }] });
    expect(outcomes(run(adapterFor('k8s', { announce: 'never', humanUsers: ['eks:node-manager'] }), [eksEvent('e6', { username: 'eks:node-manager' })]))[0]).toMatchObject({ skipped: { code: 'human' } });
  });

  it('attributes an Okta request made with an API token to the token, not to the user who owns it', () => {
    const logEvent = {
      uuid: '8c2a0f3e-1111-11ef-9e3a-6f5d2c1a0b9e',
      published: '2026-02-10T09:05:00.123Z',
      eventType: 'user.lifecycle.deactivate',
      legacyEventType: 'core.user.config.user_deactivated',
      displayMessage: 'Deactivate Okta user',
      severity: 'INFO',
      actor: { id: '00u1adminEXAMPLE', type: 'User', alternateId: 'provisioning-admin@example.com', displayName: 'Provisioning Admin', detailEntry: null },
      client: { userAgent: { rawUserAgent: 'okta-sdk-python/2.9.0', os: 'Unknown', browser: 'UNKNOWN' }, zone: 'null', device: 'Unknown', id: null, ipAddress: '198.51.100.23' },
      outcome: { result: 'SUCCESS', reason: null },
      target: [{ id: '00u9targetEXAMPLE', type: 'User', alternateId: 'leaver@example.com', displayName: 'Leaver', detailEntry: null }],
      transaction: { type: 'WEB', id: 'Zc1-txn-EXAMPLE', detail: { requestApiTokenId: '00T1tokenEXAMPLE' } },
      debugContext: { debugData: { requestUri: '/api/v1/users/00u9targetEXAMPLE/lifecycle/deactivate' } },
      authenticationContext: { externalSessionId: 'trs-EXAMPLE' },
    };
    const [r] = run(oktaAdapter({ announce: 'never' }), [logEvent]);
    expect(r!.events).toMatchObject([{ type: 'telemetry.activity', subject: 'okta:api-token/00T1tokenEXAMPLE', data: { action: 'okta:user.lifecycle.deactivate', resource: 'User/00u9targetEXAMPLE' } }]);
    expect(r!.uses).toEqual([{ identityId: 'okta:api-token/00T1tokenEXAMPLE', credentialId: 'okta-api-token:00T1tokenEXAMPLE', sourceIp: '198.51.100.23', time: '2026-02-10T09:05:00.123Z', recordKey: 'okta:8c2a0f3e-1111-11ef-9e3a-6f5d2c1a0b9e', action: 'user.lifecycle.deactivate' }]);
  });
});

/** A CloudTrail management event in the shape CloudTrail delivers (eventVersion 1.08+). */
const trail = (eventID: string, fields: Record<string, unknown>) => ({
  eventVersion: '1.09',
  eventTime: '2026-02-10T10:00:00Z',
  awsRegion: 'us-west-2',
  requestID: `req-${eventID}`,
  eventID,
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: '111122223333',
  eventCategory: 'Management',
  ...fields,
});
const podIdentityAssumeRole = trail('pod-1', {
  userIdentity: { type: 'AWSService', invokedBy: 'pods.eks.amazonaws.com' },
  eventSource: 'sts.amazonaws.com',
  eventName: 'AssumeRole',
  sourceIPAddress: 'pods.eks.amazonaws.com',
  userAgent: 'pods.eks.amazonaws.com',
  requestParameters: {
    roleArn: 'arn:aws:iam::111122223333:role/payments-s3',
    roleSessionName: 'eks-prod-api-7d9c-5f6b8',
    durationSeconds: 21600,
    tags: [
      { key: 'eks-cluster-arn', value: 'arn:aws:eks:us-west-2:111122223333:cluster/prod' },
      { key: 'eks-cluster-name', value: 'prod' },
      { key: 'kubernetes-namespace', value: 'payments' },
      { key: 'kubernetes-service-account', value: 'api' },
      { key: 'kubernetes-pod-name', value: 'api-7d9c-5f6b8' },
      { key: 'kubernetes-pod-uid', value: '0f6d4e2a-0000-4000-8000-000000000001' },
    ],
    transitiveTagKeys: ['eks-cluster-arn', 'eks-cluster-name', 'kubernetes-namespace', 'kubernetes-service-account', 'kubernetes-pod-name', 'kubernetes-pod-uid'],
  },
  responseElements: {
    credentials: { accessKeyId: 'ASIAPODIDENTITY12345', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE', expiration: 'Feb 10, 2026, 4:00:00 PM' },
    assumedRoleUser: { assumedRoleId: 'AROAPAYMENTSS3:eks-prod-api-7d9c-5f6b8', arn: 'arn:aws:sts::111122223333:assumed-role/payments-s3/eks-prod-api-7d9c-5f6b8' },
  },
  sharedEventID: 'shared-pod-1',
});

describe('class: links between identities lost', () => {
  it('ties an EKS Pod Identity role session (kubernetes-namespace/-service-account session tags) to the Kubernetes service account', () => {
    const [r] = outcomes(run(cloudTrailAdapter({ announce: 'never' }), [podIdentityAssumeRole]));
    const session = { sessionId: 'arn:aws:sts::111122223333:assumed-role/payments-s3/eks-prod-api-7d9c-5f6b8', system: 'aws-sts', expiresAt: '2026-02-10T16:00:00.000Z', tokenId: 'ASIAPODIDENTITY12345' };
    expect(r).toMatchObject({
      events: [
        { type: 'session.started', subject: 'aws:111122223333:role/payments-s3', data: session },
        { type: 'session.started', subject: 'k8s:payments/api', data: { ...session, task: 'aws-role:arn:aws:iam::111122223333:role/payments-s3' } },
      ],
    });
  });

  it("ties an IRSA role session to the service account named by the web-identity subject, and a GitHub OIDC one to the job", () => {
    const web = (id: string, subject: string, provider: string) =>
      trail(id, {
        userIdentity: { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider },
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRoleWithWebIdentity',
        sourceIPAddress: '198.51.100.77',
        userAgent: 'aws-sdk-go-v2/1.30.0',
        requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/app', roleSessionName: `s-${id}` },
        responseElements: {
          credentials: { accessKeyId: `ASIAWEB${id.toUpperCase()}EXAMPLE`, expiration: 'Feb 10, 2026, 11:00:00 AM' },
          subjectFromWebIdentityToken: subject,
          assumedRoleUser: { arn: `arn:aws:sts::111122223333:assumed-role/app/s-${id}` },
          provider: `arn:aws:iam::111122223333:oidc-provider/${provider}`,
          audience: 'sts.amazonaws.com',
        },
      });
    const out = outcomes(run(cloudTrailAdapter({ announce: 'never' }), [web('irsa1', 'system:serviceaccount:payments:api', 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E'), web('gh1', 'repo:octo-org/octo-repo:environment:prod', 'token.actions.githubusercontent.com')]));
    expect(out[0]).toMatchObject({ events: [{ subject: 'aws:111122223333:role/app' }, { subject: 'k8s:payments/api', data: { sessionId: 'arn:aws:sts::111122223333:assumed-role/app/s-irsa1' } }] });
    expect(out[1]).toMatchObject({ events: [{ subject: 'aws:111122223333:role/app' }, { subject: 'github:octo-org/octo-repo@prod' }] });
  });

  it('keeps the credential id a TokenRequest issued and joins its later use to that session', () => {
    const tokenRequest = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'tr-1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/payments/serviceaccounts/api/token',
      verb: 'create',
      user: { username: 'system:node:ip-10-0-12-34.us-west-2.compute.internal', groups: ['system:nodes', 'system:authenticated'] },
      sourceIPs: ['10.0.12.34'],
      objectRef: { resource: 'serviceaccounts', namespace: 'payments', name: 'api', apiVersion: 'v1', subresource: 'token' },
      responseStatus: { metadata: {}, code: 201 },
      requestReceivedTimestamp: '2026-02-10T09:00:00.000000Z',
      stageTimestamp: '2026-02-10T09:00:00.010000Z',
      annotations: { 'authentication.kubernetes.io/issued-credential-id': 'JTI=5a1b7c2e-0000-4000-8000-00000000abcd', 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
    };
    const use = {
      ...eksEvent('use-1', { username: 'system:serviceaccount:payments:api', uid: 'u-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:payments', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=5a1b7c2e-0000-4000-8000-00000000abcd'], 'authentication.kubernetes.io/node-name': ['ip-10-0-12-34.us-west-2.compute.internal'], 'authentication.kubernetes.io/pod-name': ['api-7d9c-5f6b8'], 'authentication.kubernetes.io/pod-uid': ['0f6d4e2a-0000-4000-8000-000000000001'] } }),
      requestURI: '/api/v1/namespaces/payments/secrets/db',
      objectRef: { resource: 'secrets', namespace: 'payments', name: 'db', apiVersion: 'v1' },
      sourceIPs: ['10.0.40.7'],
    };
    const [issued, used] = run(k8sAdapter({ announce: 'never' }), [tokenRequest, use]);
    const sessionId = 'k8s:credential/JTI=5a1b7c2e-0000-4000-8000-00000000abcd';
    expect(issued!.events).toMatchObject([{ type: 'session.started', subject: 'k8s:payments/api', data: { sessionId, tokenId: 'JTI=5a1b7c2e-0000-4000-8000-00000000abcd', expiresAt: '2026-02-10T10:00:00.010Z' } }, { type: 'telemetry.activity', subject: 'k8s:node/ip-10-0-12-34.us-west-2.compute.internal' }]);
    // The use joins the issued session (no implicit session of its own) and carries its network facts.
    expect(used!.events).toMatchObject([{ type: 'secret.accessed', data: { secretPath: 'namespaces/payments/secrets/db', sessionId } }]);
    expect(used!.uses).toEqual([{ identityId: 'k8s:payments/api', credentialId: 'JTI=5a1b7c2e-0000-4000-8000-00000000abcd', sessionId, sourceIp: '10.0.40.7', time: '2026-02-10T09:00:00.004Z', recordKey: 'k8s:use-1', action: 'k8s:get namespaces/payments/secrets/db', boundTo: { platform: 'kubernetes', machine: 'pod api-7d9c-5f6b8' } }]);
  });

  it('tracks FederatedUser sessions minted by GetFederationToken, and the federated user\'s calls in them', () => {
    const mint = trail('fed-1', {
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/token-broker', accountId: '111122223333', accessKeyId: 'AKIABROKEREXAMPLE12', userName: 'token-broker' },
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetFederationToken',
      sourceIPAddress: '198.51.100.8',
      userAgent: 'aws-cli/2.15.0',
      requestParameters: { name: 'batch-job-17', durationSeconds: 3600 },
      responseElements: { credentials: { accessKeyId: 'ASIAFEDERATEDEXAMPLE', expiration: 'Feb 10, 2026, 11:00:00 AM' }, federatedUser: { federatedUserId: '111122223333:batch-job-17', arn: 'arn:aws:sts::111122223333:federated-user/batch-job-17' }, packedPolicySize: 6 },
    });
    const call = trail('fed-2', {
      eventTime: '2026-02-10T10:05:00Z',
      userIdentity: { type: 'FederatedUser', principalId: '111122223333:batch-job-17', arn: 'arn:aws:sts::111122223333:federated-user/batch-job-17', accountId: '111122223333', accessKeyId: 'ASIAFEDERATEDEXAMPLE', sessionContext: { sessionIssuer: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/token-broker', accountId: '111122223333', userName: 'token-broker' }, attributes: { creationDate: '2026-02-10T10:00:00Z', mfaAuthenticated: 'false' } } },
      eventSource: 's3.amazonaws.com',
      eventName: 'ListObjects',
      sourceIPAddress: '198.51.100.8',
      requestParameters: { bucketName: 'batch-input' },
    });
    const [m, c] = outcomes(run(cloudTrailAdapter({ announce: 'never' }), [mint, call]));
    expect(m).toMatchObject({ events: [{ type: 'telemetry.activity', subject: 'aws:111122223333:user/token-broker' }, { type: 'session.started', subject: 'aws:111122223333:user/token-broker', data: { sessionId: 'arn:aws:sts::111122223333:federated-user/batch-job-17', tokenId: 'ASIAFEDERATEDEXAMPLE', expiresAt: '2026-02-10T11:00:00.000Z' } }] });
    // Already known: no implicit session; the call is the IAM user's, in the federated session.
    expect(c).toMatchObject({ events: [{ type: 'telemetry.activity', subject: 'aws:111122223333:user/token-broker', data: { action: 's3:ListObjects', resource: 'arn:aws:s3:::batch-input' } }] });
  });
});

describe('class: resources lost', () => {
  it('names the EC2 instances of an instancesSet and the EKS cluster of a request instead of *', () => {
    const caller = { type: 'AssumedRole', principalId: 'AROAOPS:autoscaler', arn: 'arn:aws:sts::111122223333:assumed-role/ops-automation/autoscaler', accountId: '111122223333', accessKeyId: 'ASIAOPSEXAMPLE123456', sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAOPS', arn: 'arn:aws:iam::111122223333:role/ops-automation', accountId: '111122223333', userName: 'ops-automation' }, attributes: { creationDate: '2026-02-10T09:30:00Z', mfaAuthenticated: 'false' } } };
    const stop = trail('ec2-1', { userIdentity: caller, eventSource: 'ec2.amazonaws.com', eventName: 'StopInstances', sourceIPAddress: '10.0.5.5', requestParameters: { instancesSet: { items: [{ instanceId: 'i-0a1b2c3d4e5f60718' }, { instanceId: 'i-0f1e2d3c4b5a69788' }] }, force: false } });
    const eks = trail('eks-1', { userIdentity: caller, eventSource: 'eks.amazonaws.com', eventName: 'DescribeCluster', sourceIPAddress: '10.0.5.5', readOnly: true, requestParameters: { name: 'prod' } });
    const list = trail('ec2-2', { userIdentity: caller, eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', sourceIPAddress: '10.0.5.5', readOnly: true, requestParameters: { instancesSet: {}, filterSet: {} } });
    const [a, b, c] = outcomes(run(cloudTrailAdapter({ announce: 'never' }), [stop, eks, list]));
    const activities = (o: unknown) => (o as { events: { type: string; data: { resource: string } }[] }).events.filter((e) => e.type === 'telemetry.activity').map((e) => e.data.resource);
    expect(activities(a)).toEqual(['arn:aws:ec2:us-west-2:111122223333:instance/i-0a1b2c3d4e5f60718', 'arn:aws:ec2:us-west-2:111122223333:instance/i-0f1e2d3c4b5a69788']);
    expect(activities(b)).toEqual(['arn:aws:eks:us-west-2:111122223333:cluster/prod']);
    // A call that names nothing acted on the service in the account and region, not on "*".
    expect(activities(c)).toEqual(['arn:aws:ec2:us-west-2:111122223333:*']);
  });
});

describe('people stay out, visibly', () => {
  it('skips people with a reason and the deciding field, and keeps their activity on request (humans: keep)', () => {
    const person = eksEvent('p-1', { username: 'alice@example.com', groups: ['system:authenticated', 'devs'] });
    const [skipped] = run(k8sAdapter(), [person]);
    expect(skipped).toMatchObject({ events: [], skipped: { code: 'human', field: 'user.username' } });
    expect(skipped!.human).toBeUndefined();
    const [kept] = run(k8sAdapter({ humans: 'keep' }), [person]);
    expect(kept!.human).toEqual({ source: 'k8s', actor: 'alice@example.com', actorField: 'user.username', time: '2026-02-10T09:00:00.004Z', action: 'k8s:get', resource: 'namespaces/kube-system/configmaps/aws-auth', sourceIp: '10.0.12.34', outcome: 'success' });
  });
});
