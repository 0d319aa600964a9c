import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './support.js';

/** Every real-format sample and the test that writes out its expected mapping. */
const covered: Record<string, string> = {
  'vault-audit/vault-guides-lab-audit-subset.jsonl': 'vault.unit.test.ts',
  'vault-audit/vault-docs-pr14865-lifecycle.jsonl': 'vault.unit.test.ts',
  'vault-audit/vault-guides-governance-approle-write-example.json': 'vault.unit.test.ts',
  ...Object.fromEntries(
    [
      'falco-anonymous_creates_namespace_foo.json',
      'falco-attach_cluster_admin_role.json',
      'falco-create_cluster_role_wildcard_verbs.json',
      'falco-create_clusterrolebinding.json',
      'falco-create_kube_system_secret.json',
      'falco-create_nginx_pod_privileged.json',
      'falco-create_secret.json',
      'falco-create_service_account_token_secret.json',
      'falco-create_serviceaccount.json',
      'falco-delete_clusterrolebinding.json',
      'falco-delete_secret.json',
      'falco-delete_serviceaccount.json',
      'falco-exec_pod.json',
      'panther-partial-eks-sa-token-create.json',
      'panther-partial-eks-secret-get-403.json',
      'panther-partial-sa-secret-get-403.json',
    ].map((f) => [`k8s-audit/${f}`, 'k8s.unit.test.ts']),
  ),
  ...Object.fromEntries(
    [
      'awsdocs-cloudtrail-records-errorcode-example.json',
      'awsdocs-iam-assumedrole-s3-deletebucket.json',
      'awsdocs-iam-consolelogin-failure.json',
      'awsdocs-iam-sts-assumerole-crossaccount-caller.json',
      'awsdocs-iam-sts-assumerole-crossaccount-target.json',
      'awsdocs-iam-sts-assumerole-role-chaining.json',
      'awsdocs-iam-sts-assumerolewithsaml.as-published.txt',
      'awsdocs-iam-sts-assumerolewithwebidentity.as-published.txt',
      'panther-ec2-describeinstanceattribute-unauthorized-assumedrole.json',
      'panther-secretsmanager-getsecretvalue-accessdenied-assumedrole.json',
      'panther-signin-assumerole-sso-normalized.json',
      'panther-sts-assumerole-by-awsservice-lambda.json',
      'panther-sts-assumerole-expiredtoken.json',
    ].map((f) => [`cloudtrail/${f}`, 'cloudtrail.unit.test.ts']),
  ),
  'github-actions-oidc/github-docs-oidc-token-claims.json': 'githubOidc.unit.test.ts',
  'github-actions-oidc/github-docs-oidc-token-header.json': 'githubOidc.unit.test.ts',
  'okta-system-log/panther-okta-system-api-token-create.json': 'okta.unit.test.ts',
  'okta-system-log/panther-okta-system-api-token-revoke.json': 'okta.unit.test.ts',
};

const SHARED = process.env.LIVESCOPE_REAL_FORMATS ?? '/work/shared/testdata/real-formats';
const samples = (root: string): string[] =>
  readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'caep')
    .flatMap((d) => readdirSync(`${root}/${d.name}`).filter((f) => f !== 'README.md').map((f) => `${d.name}/${f}`))
    .sort();

describe('real-format samples', () => {
  it('every sample has a test that writes out its expected mapping (CAEP samples are tested in @livescope/caep)', () => {
    expect(samples(FIXTURES)).toEqual(Object.keys(covered).sort());
    for (const [file, test] of Object.entries(covered)) expect(readFileSync(new URL(`./${test}`, import.meta.url), 'utf8')).toContain(file.split('/')[1]!);
  });

  it.runIf(existsSync(SHARED))('the fixtures are byte-for-byte copies of the shared test data', () => {
    expect(samples(SHARED)).toEqual(samples(FIXTURES));
    for (const f of samples(SHARED)) expect(readFileSync(`${FIXTURES}${f}`)).toEqual(readFileSync(`${SHARED}/${f}`));
  });
});
