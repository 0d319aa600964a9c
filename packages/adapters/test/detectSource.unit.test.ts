import { describe, expect, it } from 'vitest';
import { autoAdapter } from '../src/autoAdapter.js';
import { mapText } from '../src/common/mapText.js';
import { detectSource } from '../src/detectSource.js';
import { fixture, RECEIVED_AT } from './support.js';

const parsed = (text: string) => {
  try {
    return { raw: text, parsed: { ok: true as const, value: JSON.parse(text) as unknown } };
  } catch (e) {
    return { raw: text, parsed: { ok: false as const, error: (e as Error).message } };
  }
};

describe('source auto-detection', () => {
  it('recognises all seven families from a sample of each', () => {
    const firstLine = (f: string) => fixture(f).split('\n')[0]!;
    const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = JSON.parse(fixture('github-actions-oidc/github-docs-oidc-token-claims.json')) as unknown;
    const cases: [string, string][] = [
      [firstLine('vault-audit/vault-guides-lab-audit-subset.jsonl'), 'vault'],
      [fixture('k8s-audit/falco-create_secret.json'), 'k8s'],
      [JSON.stringify({ kind: 'EventList', items: [JSON.parse(fixture('k8s-audit/falco-create_secret.json'))] }), 'k8s'],
      [fixture('cloudtrail/awsdocs-iam-assumedrole-s3-deletebucket.json'), 'cloudtrail'],
      [fixture('cloudtrail/awsdocs-cloudtrail-records-errorcode-example.json'), 'cloudtrail'],
      [JSON.stringify({ version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.s3', detail: JSON.parse(fixture('cloudtrail/awsdocs-iam-assumedrole-s3-deletebucket.json')) }), 'cloudtrail'],
      [fixture('github-actions-oidc/github-docs-oidc-token-claims.json'), 'github-oidc'],
      [`${b64url({ alg: 'RS256' })}.${b64url(claims)}.c2ln`, 'github-oidc'],
      [fixture('okta-system-log/panther-okta-system-api-token-create.json'), 'okta'],
      [fixture('gcp-audit/panther-iamcredentials-signjwt-granted.json'), 'gcp-audit'],
      [fixture('gcp-audit/googledocs-wif-sts-exchangetoken-azure.json'), 'gcp-audit'],
      [JSON.stringify({ message: { data: 'e30=' }, subscription: 'projects/p/subscriptions/s' }), 'gcp-audit'],
      [firstLine('entra/datadog-managed-identity-sign-in-logs.jsonl'), 'entra'],
      [fixture('entra/panther-service-principal-sign-in-failure.json'), 'entra'],
      [JSON.stringify({ records: [JSON.parse(firstLine('entra/datadog-service-principal-sign-in-logs.jsonl'))] }), 'entra'],
      [JSON.stringify({ value: [{ id: 'g', createdDateTime: '2026-01-01T00:00:00Z', appId: 'a', servicePrincipalId: 's', signInEventTypes: ['servicePrincipal'] }] }), 'entra'],
    ];
    for (const [text, family] of cases) expect(detectSource(parsed(text)), text.slice(0, 80)).toBe(family);
    expect(new Set(cases.map(([, f]) => f)).size).toBe(7);
  });

  it('routes a mixed stream family by family (keeping each family\'s state) and refuses what no family writes', () => {
    const mixed = [fixture('k8s-audit/falco-create_serviceaccount.json'), fixture('entra/datadog-service-principal-sign-in-logs.jsonl').split('\n')[0]!, JSON.stringify({ hello: 'world' })].map((t) => JSON.stringify(JSON.parse(t))).join('\n');
    const auto = autoAdapter({ announce: 'never' });
    const state = auto.initialState();
    const out = mapText({ ...auto, initialState: () => state }, mixed, { receivedAt: RECEIVED_AT });
    expect(out.map((r) => (r.deadLetter ? r.deadLetter.reason : r.events[0]?.source))).toEqual(['livescope-adapter/k8s', 'livescope-adapter/entra', 'unsupported']);
    expect(out[2]!.deadLetter!.message).toMatch(/could not tell the source of the record/);
    expect(Object.fromEntries(auto.detected(state))).toEqual({ k8s: 1, entra: 1 });
  });
});
