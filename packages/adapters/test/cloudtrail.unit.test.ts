import { describe, expect, it } from 'vitest';
import { cloudTrailAdapter } from '../src/cloudtrail/cloudTrailAdapter.js';
import { mapText } from '../src/common/mapText.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const C = 'livescope-adapter/cloudtrail';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(C, id, type, subject, time, data);
const role = (account: string, name: string, extra: Record<string, string> = {}) => ({ kind: 'workload', name, namespace: account, owner: 'unassigned', labels: { source: 'aws', 'aws.account': account, ...extra } });
const user = (account: string, name: string) => ({ kind: 'service-account', name, namespace: account, owner: 'unassigned', labels: { source: 'aws', 'aws.account': account, 'aws.user_arn': `arn:aws:iam::${account}:user/${name}` } });

describe('cloudtrail: every real sample', () => {
  const cases: Record<string, unknown[]> = {
    // A `Records` log file: each record is mapped; an IAM user's failed (not denied) call is still a use of its permission.
    'awsdocs-cloudtrail-records-errorcode-example.json': [
      {
        events: [
          e('aws:b7d4398e-b2f0-4faa-9c76-e2d316a8d67f/identity-efca9fac962739ee', 'identity.created', 'aws:123456789012:user/Alice', '2016-07-14T19:15:45.000Z', user('123456789012', 'Alice')),
          e('aws:b7d4398e-b2f0-4faa-9c76-e2d316a8d67f/activity', 'telemetry.activity', 'aws:123456789012:user/Alice', '2016-07-14T19:15:45.000Z', { action: 'cloudtrail:UpdateTrail', resource: 'myTrail2' }),
        ],
      },
    ],
    'awsdocs-iam-assumedrole-s3-deletebucket.json': [
      {
        events: [
          e('aws:dEXAMPLE-265a-41e0-9352-4401bEXAMPLE/identity-2a9d2750137484cb', 'identity.created', 'aws:777788889999:role/AssumeNothing', '2016-11-14T17:25:45.000Z', role('777788889999', 'AssumeNothing', { 'aws.role_arn': 'arn:aws:iam::777788889999:role/AssumeNothing' })),
          // The session was started before this input: it is recorded, lasting at most 12 h from its creationDate.
          e('aws:dEXAMPLE-265a-41e0-9352-4401bEXAMPLE/session', 'session.started', 'aws:777788889999:role/AssumeNothing', '2016-11-14T17:25:45.000Z', {
            sessionId: 'arn:aws:sts::777788889999:assumed-role/AssumeNothing/devdsk',
            system: 'aws-sts',
            expiresAt: '2016-11-15T05:25:26.000Z',
            tokenId: 'AKIAQRSTUVWXYZEXAMPLE',
          }),
          e('aws:dEXAMPLE-265a-41e0-9352-4401bEXAMPLE/activity', 'telemetry.activity', 'aws:777788889999:role/AssumeNothing', '2016-11-14T17:25:45.000Z', { action: 's3:DeleteBucket', resource: 'arn:aws:s3:::my-test-bucket-cross-account' }),
        ],
      },
    ],
    'awsdocs-iam-consolelogin-failure.json': [
      {
        events: [
          e('aws:11ea990b-4678-4bcd-8fbe-62509088b7cf/identity-3a5bcc4c1adfa57d', 'identity.created', 'aws:111122223333:user/JaneDoe', '2014-07-08T17:35:27.000Z', user('111122223333', 'JaneDoe')),
          e('aws:11ea990b-4678-4bcd-8fbe-62509088b7cf/denied', 'enforcement.decisions', 'aws:111122223333:user/JaneDoe', '2014-07-08T17:35:27.000Z', {
            enforcerId: 'aws-iam',
            windowStart: '2014-07-08T17:35:27.000Z',
            windowEnd: '2014-07-08T17:35:27.000Z',
            decisions: [{ action: 'signin:ConsoleLogin', resource: 'https://console.aws.amazon.com/sns', allowed: 0, denied: 1, reason: 'console sign-in failed: Failed authentication' }],
          }),
        ],
      },
    ],
    // Cross-account AssumeRole seen by the caller's account: the caller's use of sts:AssumeRole, and the target role's session.
    'awsdocs-iam-sts-assumerole-crossaccount-caller.json': [
      {
        events: [
          e('aws:dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE/identity-6ee794616e342fcc', 'identity.created', 'aws:777788889999:user/JohnDoe', '2014-07-18T15:07:39.000Z', user('777788889999', 'JohnDoe')),
          e('aws:dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE/identity-75605ff061bf1b07', 'identity.created', 'aws:111122223333:role/EC2-dev', '2014-07-18T15:07:39.000Z', role('111122223333', 'EC2-dev', { 'aws.role_arn': 'arn:aws:iam::111122223333:role/EC2-dev' })),
          e('aws:dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE/activity', 'telemetry.activity', 'aws:777788889999:user/JohnDoe', '2014-07-18T15:07:39.000Z', { action: 'sts:AssumeRole', resource: 'arn:aws:iam::111122223333:role/EC2-dev' }),
          // The published example's expiration says 2023 (sic): it is taken as written.
          e('aws:bEXAMPLE-efea-4a70-b951-19a88EXAMPLE/session', 'session.started', 'aws:111122223333:role/EC2-dev', '2014-07-18T15:07:39.000Z', {
            sessionId: 'arn:aws:sts::111122223333:assumed-role/EC2-dev/JohnDoe-EC2-dev',
            system: 'aws-sts',
            expiresAt: '2023-07-18T16:07:39.000Z',
            tokenId: 'AKIAQRSTUVWXYZEXAMPLE',
          }),
        ],
      },
    ],
    // The same call seen by the target account: the session event has the same id (sharedEventID), so it is one event.
    'awsdocs-iam-sts-assumerole-crossaccount-target.json': [
      {
        events: [
          e('aws:dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE/identity-75605ff061bf1b07', 'identity.created', 'aws:111122223333:role/EC2-dev', '2014-07-18T15:07:39.000Z', role('111122223333', 'EC2-dev', { 'aws.role_arn': 'arn:aws:iam::111122223333:role/EC2-dev' })),
          e('aws:bEXAMPLE-efea-4a70-b951-19a88EXAMPLE/session', 'session.started', 'aws:111122223333:role/EC2-dev', '2014-07-18T15:07:39.000Z', {
            sessionId: 'arn:aws:sts::111122223333:assumed-role/EC2-dev/JohnDoe-EC2-dev',
            system: 'aws-sts',
            expiresAt: '2014-07-18T16:07:39.000Z',
            tokenId: 'AKIAQRSTUVWXYZEXAMPLE',
          }),
        ],
      },
    ],
    // Role chaining: a role session assumes another role.
    'awsdocs-iam-sts-assumerole-role-chaining.json': [
      {
        events: [
          e('aws:1917948f-3042-46ec-98e2-62865EXAMPLE/identity-3c3c30e57098f991', 'identity.created', 'aws:111111111111:role/JohnDoe', '2019-10-02T22:12:29.000Z', role('111111111111', 'JohnDoe', { 'aws.role_arn': 'arn:aws:iam::111111111111:role/JohnRole1' })),
          e('aws:1917948f-3042-46ec-98e2-62865EXAMPLE/identity-e61920e4ff51312c', 'identity.created', 'aws:111111111111:role/JohnRole2', '2019-10-02T22:12:29.000Z', role('111111111111', 'JohnRole2', { 'aws.role_arn': 'arn:aws:iam::111111111111:role/JohnRole2' })),
          e('aws:1917948f-3042-46ec-98e2-62865EXAMPLE/session', 'session.started', 'aws:111111111111:role/JohnDoe', '2019-10-02T22:12:29.000Z', { sessionId: 'arn:aws:sts::111111111111:assumed-role/JohnDoe/JohnRole1', system: 'aws-sts', expiresAt: '2019-10-03T09:50:54.000Z', tokenId: 'AKIAI44QH8DHBEXAMPLE' }),
          e('aws:1917948f-3042-46ec-98e2-62865EXAMPLE/activity', 'telemetry.activity', 'aws:111111111111:role/JohnDoe', '2019-10-02T22:12:29.000Z', { action: 'sts:AssumeRole', resource: 'arn:aws:iam::111111111111:role/JohnRole2' }),
          e('aws:1917948f-3042-46ec-98e2-62865EXAMPLE/session', 'session.started', 'aws:111111111111:role/JohnRole2', '2019-10-02T22:12:29.000Z', {
            sessionId: 'arn:aws:sts::111111111111:assumed-role/test-role/Role2WithTags',
            system: 'aws-sts',
            expiresAt: '2019-10-02T23:12:29.000Z',
            tokenId: 'ASIAWHOJDLGPOEXAMPLE',
          }),
        ],
      },
    ],
    // Published without commas: not JSON, dead-lettered with the parser's message.
    'awsdocs-iam-sts-assumerolewithsaml.as-published.txt': [{ deadLetter: { reason: 'not-json', message: expect.stringMatching(/^record is not JSON: Expected ',' or '}' after property value in JSON at position 1346/) as unknown as string } }],
    'awsdocs-iam-sts-assumerolewithwebidentity.as-published.txt': [{ deadLetter: { reason: 'not-json', message: expect.stringMatching(/^record is not JSON: Expected ',' or '}' after property value in JSON at position 747/) as unknown as string } }],
    'panther-ec2-describeinstanceattribute-unauthorized-assumedrole.json': [
      {
        events: [
          e('aws:fa67e0b9-9837-4c84-baa0-78a271821d3e/identity-f14dc47429954ff4', 'identity.created', 'aws:111122223333:role/SampleRole', '2024-12-11T21:49:07.000Z', role('111122223333', 'SampleRole', { 'aws.role_arn': 'arn:aws:iam::111122223333:role/SampleRole' })),
          e('aws:fa67e0b9-9837-4c84-baa0-78a271821d3e/session', 'session.started', 'aws:111122223333:role/SampleRole', '2024-12-11T21:49:07.000Z', { sessionId: 'arn:aws:sts::111122223333:assumed-role/SampleRole/sample-session', system: 'aws-sts', expiresAt: '2024-12-12T09:49:04.000Z' }),
          e('aws:fa67e0b9-9837-4c84-baa0-78a271821d3e/denied', 'enforcement.decisions', 'aws:111122223333:role/SampleRole', '2024-12-11T21:49:07.000Z', {
            enforcerId: 'aws-iam',
            windowStart: '2024-12-11T21:49:07.000Z',
            windowEnd: '2024-12-11T21:49:07.000Z',
            decisions: [
              {
                action: 'ec2:DescribeInstanceAttribute',
                resource: 'arn:aws:ec2:us-west-2:111122223333:instance/i-12345678',
                sessionId: 'arn:aws:sts::111122223333:assumed-role/SampleRole/sample-session',
                allowed: 0,
                denied: 1,
                reason: expect.stringMatching(/^Client\.UnauthorizedOperation: You are not authorized to perform this operation\. User: arn:aws:sts::111122223333:assumed-role\/SampleRole\/sample-session is not authorized/) as unknown as string,
              },
            ],
          }),
        ],
      },
    ],
    // IAM Identity Center roles are people's sessions.
    'panther-secretsmanager-getsecretvalue-accessdenied-assumedrole.json': [{ skipped: { code: 'human', field: 'userIdentity.sessionContext.sessionIssuer.userName', message: "errorCode AccessDenied: role AWSReservedSSO_DevAdmin_635426549a280cc6 is an IAM Identity Center permission set (a person's session)" } }],
    'panther-signin-assumerole-sso-normalized.json': [{ skipped: { code: 'human', field: 'userIdentity.sessionContext.sessionIssuer.userName', message: "console sign-in (AssumeRole): role AWSReservedSSO_DevAdmin_635426549a280cc6 is an IAM Identity Center permission set (a person's session)" } }],
    // Lambda assumes a function's execution role: a session of that role; the Panther-normalised time is read as UTC.
    'panther-sts-assumerole-by-awsservice-lambda.json': [
      {
        events: [
          e('aws:1f3d7d49-6637-3304-b959-9be15f20215d/identity-528c3525b4021b23', 'identity.created', 'aws:123456789123:role/my_role_arn', '2024-06-02T20:27:12.000Z', role('123456789123', 'my_role_arn', { 'aws.role_arn': 'arn:aws:iam::123456789123:role/my_role_arn', 'aws.assumed_by': 'lambda.amazonaws.com' })),
          e('aws:95e84e79-100a-40a6-985e-3c9c4b41f622/session', 'session.started', 'aws:123456789123:role/my_role_arn', '2024-06-02T20:27:12.000Z', {
            sessionId: 'arn:aws:sts::123456789123:assumed-role/my_role_arn/awslambda_55_20240602202712548',
            system: 'aws-sts',
            expiresAt: '2024-06-02T22:37:12.000Z',
          }),
        ],
      },
    ],
    'panther-sts-assumerole-expiredtoken.json': [
      {
        events: [
          e('aws:1111/identity-354c715abb9027d3', 'identity.created', 'aws:123456789012:user/example-user', '2019-01-01T00:00:00.000Z', user('123456789012', 'example-user')),
          e('aws:1111/denied', 'enforcement.decisions', 'aws:123456789012:user/example-user', '2019-01-01T00:00:00.000Z', {
            enforcerId: 'aws-iam',
            windowStart: '2019-01-01T00:00:00.000Z',
            windowEnd: '2019-01-01T00:00:00.000Z',
            decisions: [{ action: 'sts:AssumeRole', resource: 'arn:aws:iam::123456789012:role/FullAdminRole', allowed: 0, denied: 1, reason: 'ExpiredToken' }],
          }),
        ],
      },
    ],
  };
  for (const [file, expected] of Object.entries(cases)) {
    it(file, () => expect(mapFixture(cloudTrailAdapter(), `cloudtrail/${file}`)).toEqual(expected));
  }
});

describe('cloudtrail: hand-fixed copies of the invalid published examples, and what the samples lack', () => {
  it('maps AssumeRoleWithWebIdentity (the documentation example with its missing commas added) to a session of the role', () => {
    const fixed = fixture('cloudtrail/awsdocs-iam-sts-assumerolewithwebidentity.as-published.txt').replace('"MyAssignedRoleSessionName"\n', '"MyAssignedRoleSessionName",\n').replace('"Project"\n        ],\n  }', '"Project"\n        ]\n  }');
    expect(outcomes(mapText(cloudTrailAdapter(), fixed, { receivedAt: RECEIVED_AT }))).toEqual([
      {
        events: [
          e('aws:bEXAMPLE-0b30-4246-b28c-e3da3EXAMPLE/identity-5092e32922b070f2', 'identity.created', 'aws:444455556666:role/FederatedWebIdentityRole', '2016-03-23T01:39:51.000Z', role('444455556666', 'FederatedWebIdentityRole', {
            'aws.role_arn': 'arn:aws:iam::444455556666:role/FederatedWebIdentityRole',
            'aws.web_identity_provider': 'accounts.google.com',
            'aws.web_identity_audience': '<id of application>.apps.googleusercontent.com',
          })),
          e('aws:bEXAMPLE-0b30-4246-b28c-e3da3EXAMPLE/session', 'session.started', 'aws:444455556666:role/FederatedWebIdentityRole', '2016-03-23T01:39:51.000Z', {
            sessionId: 'arn:aws:sts::444455556666:assumed-role/FederatedWebIdentityRole/MyAssignedRoleSessionName',
            system: 'aws-sts',
            expiresAt: '2016-03-23T02:39:51.000Z',
            tokenId: 'ASIACQRSTUVWRAOEXAMPLE',
          }),
        ],
      },
    ]);
  });

  it('skips AssumeRoleWithSAML (the fixed documentation example): SAML federation is for people', () => {
    const fixed = fixture('cloudtrail/awsdocs-iam-sts-assumerolewithsaml.as-published.txt').replace('"sourceIdentity": "MySAMLUser"\n        "credentials"', '"sourceIdentity": "MySAMLUser",\n        "credentials"');
    expect(outcomes(mapText(cloudTrailAdapter(), fixed, { receivedAt: RECEIVED_AT }))).toEqual([{ skipped: { code: 'human', field: 'eventName', message: "role SAMLTestRoleShibboleth assumed through AssumeRoleWithSAML (a person's session)" } }]);
  });

  it("maps a workload role's GetSecretValue to secret.accessed, and its AccessDenied to out-of-scope evidence", () => {
    type Sample = { eventID: string; errorCode?: string; userIdentity: { arn: string; sessionContext: { sessionIssuer: unknown } } };
    const sample = JSON.parse(fixture('cloudtrail/panther-secretsmanager-getsecretvalue-accessdenied-assumedrole.json')) as Sample;
    const asWorkload = (s: Sample): Sample => {
      const copy = structuredClone(s);
      copy.userIdentity.arn = 'arn:aws:sts::123123123123:assumed-role/payments-api/i-0abc';
      copy.userIdentity.sessionContext.sessionIssuer = { type: 'Role', accountId: '123123123123', arn: 'arn:aws:iam::123123123123:role/payments-api', userName: 'payments-api', principalId: 'AROA1' };
      return copy;
    };
    const ok = asWorkload(sample);
    delete ok.errorCode;
    ok.eventID = 'ok-1';
    const denied = asWorkload(sample);
    denied.eventID = 'denied-1';
    const out = outcomes(mapText(cloudTrailAdapter({ announce: 'never' }), [JSON.stringify(ok), JSON.stringify(denied)].join('\n'), { receivedAt: RECEIVED_AT }));
    const secretId = 'arn:aws:secretsmanager:us-west-2:123123123123:secret:stratus-red-team-retrieve-secret-3-gscOm8';
    const session = 'arn:aws:sts::123123123123:assumed-role/payments-api/i-0abc';
    expect(out).toEqual([
      {
        events: [
          e('aws:ok-1/session', 'session.started', 'aws:123123123123:role/payments-api', '2024-10-17T21:48:45.000Z', { sessionId: session, system: 'aws-sts', expiresAt: '2024-10-18T09:48:13.000Z', tokenId: 'ASIASXP6SDP2LKLKYYC4' }),
          e('aws:ok-1/access', 'secret.accessed', 'aws:123123123123:role/payments-api', '2024-10-17T21:48:45.000Z', { secretPath: secretId, operation: 'read', system: 'aws-secretsmanager', sessionId: session }),
        ],
      },
      {
        events: [
          e('aws:denied-1/denied', 'enforcement.decisions', 'aws:123123123123:role/payments-api', '2024-10-17T21:48:45.000Z', {
            enforcerId: 'aws-iam',
            windowStart: '2024-10-17T21:48:45.000Z',
            windowEnd: '2024-10-17T21:48:45.000Z',
            decisions: [{ action: 'secretsmanager:GetSecretValue', resource: secretId, sessionId: session, allowed: 0, denied: 1, reason: 'AccessDenied' }],
          }),
        ],
      },
    ]);
  });

  it('unwraps EventBridge envelopes and a Records document given as one value', () => {
    const event = JSON.parse(fixture('cloudtrail/panther-sts-assumerole-expiredtoken.json')) as unknown;
    const envelope = JSON.stringify({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sts', detail: event });
    const out = outcomes(mapText(cloudTrailAdapter({ announce: 'never' }), envelope, { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([{ events: [expect.objectContaining({ id: 'aws:1111/denied', type: 'enforcement.decisions' })] }]);
  });
});
