import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adapterFor } from '../src/adapterFor.js';
import { autoAdapter } from '../src/autoAdapter.js';
import { mapText } from '../src/common/mapText.js';
import type { SourceName } from '../src/common/MappingResult.js';
import { skipCodes } from '../src/common/SkipNote.js';
import { FIXTURES, fixture, RECEIVED_AT } from './support.js';

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
  ...Object.fromEntries(
    [
      'googledocs-wif-generateaccesstoken-federated.json',
      'googledocs-wif-pubsub-createtopic-delegated.json',
      'googledocs-wif-sts-exchangetoken-azure.json',
      'panther-iam-createserviceaccount-denied.json',
      'panther-iam-createserviceaccount-google-internal.json',
      'panther-iam-update-workload-identity-pool-provider-by-user.json',
      'panther-iamcredentials-generateaccesstoken-gke-metadata-server.json',
      'panther-iamcredentials-signjwt-granted.json',
      'panther-iamcredentials-signjwt-not-granted.json',
    ].map((f) => [`gcp-audit/${f}`, 'gcpAudit.unit.test.ts']),
  ),
  ...Object.fromEntries(
    [
      'datadog-managed-identity-sign-in-logs.jsonl',
      'datadog-service-principal-sign-in-logs.jsonl',
      'datadog-user-sign-in-logs.jsonl',
      'panther-service-principal-sign-in-failure.json',
      'panther-service-principal-sign-in-success.json',
    ].map((f) => [`entra/${f}`, 'entra.unit.test.ts']),
  ),
};

const FAMILY: Readonly<Record<string, SourceName>> = {
  'vault-audit': 'vault',
  'k8s-audit': 'k8s',
  cloudtrail: 'cloudtrail',
  'github-actions-oidc': 'github-oidc',
  'okta-system-log': 'okta',
  'gcp-audit': 'gcp-audit',
  entra: 'entra',
};
/** The folders of the project's shared test data (the others are this package's own additions). */
const SHARED_FOLDERS = new Set(['vault-audit', 'k8s-audit', 'cloudtrail', 'github-actions-oidc', 'okta-system-log']);
const DEAD_LETTER_REASONS = new Set(['unsupported', 'schema-invalid', 'not-json', 'oversized']);

const SHARED = process.env.LIVESCOPE_REAL_FORMATS ?? '/work/shared/testdata/real-formats';
const samples = (root: string, only?: (dir: string) => boolean): string[] =>
  readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'caep' && (!only || only(d.name)))
    .flatMap((d) => readdirSync(`${root}/${d.name}`).filter((f) => f !== 'README.md').map((f) => `${d.name}/${f}`))
    .sort();

describe('real-format samples', () => {
  it('every sample has a test that writes out its expected mapping (CAEP samples are tested in @livescope/caep)', () => {
    expect(samples(FIXTURES)).toEqual(Object.keys(covered).sort());
    for (const [file, test] of Object.entries(covered)) expect(readFileSync(new URL(`./${test}`, import.meta.url), 'utf8')).toContain(file.split('/')[1]!);
  });

  it.runIf(existsSync(SHARED))('the fixtures of the shared folders are byte-for-byte copies of the shared test data', () => {
    expect(samples(SHARED)).toEqual(samples(FIXTURES, (d) => SHARED_FOLDERS.has(d)));
    for (const f of samples(SHARED)) expect(readFileSync(`${FIXTURES}${f}`)).toEqual(readFileSync(`${SHARED}/${f}`));
  });
});

/**
 * The table the issue asks for: every record of every sample — shared and new — is understood
 * (contract-valid events) or refused with a named reason (a skip with a code, the deciding field and
 * a message; a dead letter with a reason and a message), through its family's adapter and through
 * source auto-detection, which must route it to the same family.
 */
describe('every sample maps or is refused with a named reason', () => {
  for (const file of Object.keys(covered).sort()) {
    it(file, () => {
      const family = FAMILY[file.split('/')[0]!]!;
      const text = fixture(file);
      const direct = mapText(adapterFor(family), text, { receivedAt: RECEIVED_AT });
      expect(direct.length).toBeGreaterThan(0);
      for (const r of direct) {
        if (r.deadLetter) {
          expect(DEAD_LETTER_REASONS.has(r.deadLetter.reason), r.deadLetter.reason).toBe(true);
          expect(r.deadLetter.message.length).toBeGreaterThan(10);
        } else if (r.events.length === 0) {
          expect(r.skipped, `${file}: a record with neither events nor a reason`).toBeDefined();
          expect(skipCodes).toContain(r.skipped!.code);
          expect(r.skipped!.field.length).toBeGreaterThan(0);
          expect(r.skipped!.message.length).toBeGreaterThan(10);
        }
      }
      const auto = autoAdapter();
      const state = auto.initialState();
      const viaAuto = mapText({ ...auto, initialState: () => state }, text, { receivedAt: RECEIVED_AT });
      const detected = [...auto.detected(state).keys()];
      if (direct.every((r) => r.deadLetter)) {
        // A record no family can read (invalid JSON, a JOSE header alone) is refused either way.
        expect(viaAuto.every((r) => r.deadLetter && DEAD_LETTER_REASONS.has(r.deadLetter.reason))).toBe(true);
      } else {
        expect(detected).toEqual([family]);
        expect(viaAuto.map(({ raw: _r, ...x }) => x)).toEqual(direct.map(({ raw: _r, ...x }) => x));
      }
    });
  }
});
