import { describe, expect, it } from 'vitest';
import { cloudTrailAdapter } from '../src/cloudtrail/cloudTrailAdapter.js';
import { mapText } from '../src/common/mapText.js';
import { networkOf, parseCidr, parseIp, inNetworks } from '../src/common/network.js';
import { ReplayDetector } from '../src/detect/ReplayDetector.js';
import { k8sAdapter } from '../src/k8s/k8sAdapter.js';
import { RECEIVED_AT } from './support.js';

/** Runs records through an adapter and the detector, as the ingest pipeline does; returns the detections. */
function detect(adapter: Parameters<typeof mapText>[0], records: unknown[], detector = new ReplayDetector()) {
  const results = mapText(adapter, records.map((r) => JSON.stringify(r)).join('\n'), { receivedAt: RECEIVED_AT });
  return results.flatMap((r) => (r.uses ?? []).flatMap((u) => detector.observe(u)));
}

const role = { type: 'AssumedRole', principalId: 'AROAAPP:i-0a1b2c3d4e5f60718', arn: 'arn:aws:sts::111122223333:assumed-role/app-instance/i-0a1b2c3d4e5f60718', accountId: '111122223333', accessKeyId: 'ASIAINSTANCEEXAMPLE1', sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAAPP', arn: 'arn:aws:iam::111122223333:role/app-instance', accountId: '111122223333', userName: 'app-instance' }, attributes: { creationDate: '2026-02-10T08:00:00Z', mfaAuthenticated: 'false' }, ec2RoleDelivery: '2.0' } };
const call = (eventID: string, time: string, ip: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09',
  userIdentity: role,
  eventTime: time,
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  awsRegion: 'us-west-2',
  sourceIPAddress: ip,
  userAgent: '[aws-sdk-java/1.12.500]',
  requestParameters: { bucketName: 'payroll', key: 'q1.csv' },
  responseElements: null,
  requestID: `r-${eventID}`,
  eventID,
  readOnly: true,
  eventType: 'AwsApiCall',
  recipientAccountId: '111122223333',
  ...extra,
});

describe('replay detection of our own (no upstream detector)', () => {
  it('raises token-replay when one EC2 instance credential is used from two networks within the window (CloudTrail)', () => {
    const found = detect(cloudTrailAdapter({ announce: 'never' }), [call('c1', '2026-02-10T09:00:00Z', '54.240.197.10'), call('c2', '2026-02-10T09:00:30Z', '54.240.197.11'), call('c3', '2026-02-10T09:05:00Z', '203.0.113.99')]);
    expect(found).toEqual([
      {
        specversion: '1.0',
        id: 'aws:c3/replay-' + found[0]!.id.split('replay-')[1],
        type: 'telemetry.token-replay-detected',
        source: 'livescope-detector/replay',
        time: '2026-02-10T09:05:00.000Z',
        subject: 'aws:111122223333:role/app-instance',
        data: { tokenId: 'ASIAINSTANCEEXAMPLE1', sessionId: 'arn:aws:sts::111122223333:assumed-role/app-instance/i-0a1b2c3d4e5f60718', evidence: 'credential used from 54.240.197.11 (54.240.197.0/24) and 270 s later from 203.0.113.99 (203.0.113.0/24) (s3:GetObject)' },
      },
    ]);
  });

  it('does not raise for the same NAT network, for VPC-endpoint calls, or outside the window', () => {
    const calm = detect(cloudTrailAdapter({ announce: 'never' }), [
      call('d1', '2026-02-10T09:00:00Z', '54.240.197.10'),
      call('d2', '2026-02-10T09:10:00Z', '54.240.197.200'),
      call('d3', '2026-02-10T09:11:00Z', '10.0.3.4', { vpcEndpointId: 'vpce-0123456789abcdef0' }),
      call('d4', '2026-02-10T12:00:00Z', '198.51.100.1'),
    ]);
    expect(calm).toEqual([]);
  });

  it('raises when instance credentials are used outside the platform that issued them (with the platform networks configured)', () => {
    const detector = new ReplayDetector({ platformNetworks: { 'aws-ec2': [parseCidr('54.240.0.0/16')], kubernetes: [parseCidr('10.0.0.0/8')] } });
    const found = detect(cloudTrailAdapter({ announce: 'never' }), [call('e1', '2026-02-10T09:00:00Z', '198.51.100.20')], detector);
    expect(found).toHaveLength(1);
    expect(found[0]!.data).toMatchObject({ tokenId: 'ASIAINSTANCEEXAMPLE1', evidence: 'credentials bound to i-0a1b2c3d4e5f60718 (aws-ec2) used from 198.51.100.20, outside the platform\'s networks (s3:GetObject)' });
  });

  it('raises when a pod-bound service-account token is used from outside the cluster networks (Kubernetes)', () => {
    const use = (auditID: string, ip: string, t: string) => ({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID,
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/payments/secrets/db',
      verb: 'get',
      user: { username: 'system:serviceaccount:payments:api', uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=77aa0000-0000-4000-8000-000000000001'], 'authentication.kubernetes.io/pod-name': ['api-7d9c-5f6b8'], 'authentication.kubernetes.io/node-name': ['ip-10-0-12-34'] } },
      sourceIPs: [ip],
      userAgent: 'kubectl/v1.30.1 (linux/amd64) kubernetes/7c48c2b',
      objectRef: { resource: 'secrets', namespace: 'payments', name: 'db', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      requestReceivedTimestamp: t,
      stageTimestamp: t,
    });
    const found = detect(k8sAdapter({ announce: 'never' }), [use('k1', '10.0.40.7', '2026-02-10T09:00:00.000Z'), use('k2', '203.0.113.50', '2026-02-10T09:01:00.000Z')]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ subject: 'k8s:payments/api', data: { tokenId: 'JTI=77aa0000-0000-4000-8000-000000000001', sessionId: 'k8s:credential/JTI=77aa0000-0000-4000-8000-000000000001', evidence: "credentials bound to pod api-7d9c-5f6b8 (kubernetes) used from 203.0.113.50, outside the platform's networks (k8s:get namespaces/payments/secrets/db)" } });
  });

  it('reports once per credential per window, and stays bounded', () => {
    const detector = new ReplayDetector({ capacity: 2 });
    const u = (cred: string, ip: string, t: string) => ({ identityId: 'x', credentialId: cred, sourceIp: ip, time: t, recordKey: `r-${cred}-${ip}` });
    expect(detector.observe(u('a', '198.51.100.1', '2026-01-01T00:00:00Z'))).toEqual([]);
    expect(detector.observe(u('a', '203.0.113.1', '2026-01-01T00:01:00Z'))).toHaveLength(1);
    expect(detector.observe(u('a', '192.0.2.1', '2026-01-01T00:02:00Z'))).toEqual([]);
    detector.observe(u('b', '198.51.100.1', '2026-01-01T00:00:00Z'));
    detector.observe(u('c', '198.51.100.1', '2026-01-01T00:00:00Z'));
    expect(detector.size).toBe(2);
  });
});

describe('network arithmetic', () => {
  it('parses IPv4, IPv6 (compressed, embedded IPv4) and refuses non-addresses; groups by /24 and /48; private ranges are one network', () => {
    expect(parseIp('fde4:8dba:2600:59d4:6c26:400:ac9:24c2')?.v4).toBe(false);
    expect(parseIp('::ffff:10.0.0.1')?.v4).toBe(true);
    for (const bad of ['AWS Internal', 'gce-internal-ip', 'pods.eks.amazonaws.com', '1.2.3', '1::2::3', '256.1.1.1']) expect(parseIp(bad)).toBeUndefined();
    expect(networkOf('54.240.197.10')).toBe('54.240.197.0/24');
    expect(networkOf('2001:db8:1234:5::1')).toBe('2001:0db8:1234::/48');
    expect(inNetworks('10.1.2.3')).toBe(true);
    expect(inNetworks('fd00::5')).toBe(true);
    expect(inNetworks('8.8.8.8')).toBe(false);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix length/);
  });
});
