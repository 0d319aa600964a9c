import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { githubOidcAdapter } from '../src/github-oidc/githubOidcAdapter.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const G = 'livescope-adapter/github-oidc';
const ID = 'github:octo-org/octo-repo@prod';
const labels = (verified: boolean) => ({
  source: 'github-actions',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_visibility: 'private',
  ref: 'refs/heads/main',
  ref_type: 'branch',
  sha: 'example-sha',
  environment: 'prod',
  workflow: 'example-workflow',
  job_workflow_ref: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
  event_name: 'workflow_dispatch',
  runner_environment: 'github-hosted',
  run_id: 'example-run-id',
  run_attempt: '2',
  actor: 'octocat',
  token_verified: String(verified),
});
const session = ev(G, 'github:example-id/session', 'session.started', ID, '2021-09-24T14:26:07.000Z', {
  sessionId: 'github:octo-org/octo-repo/runs/example-run-id/attempts/2',
  system: 'github-actions',
  expiresAt: '2021-09-24T14:31:07.000Z',
  tokenId: 'example-id',
  task: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
});

describe('github actions oidc: the real samples', () => {
  it('github-docs-oidc-token-claims.json: a CI job identity with its run as labels, and a session until the token expires', () => {
    expect(mapFixture(githubOidcAdapter(), 'github-actions-oidc/github-docs-oidc-token-claims.json')).toEqual([
      { events: [ev(G, 'github:example-id/identity-f8c76bd8c2db491e', 'identity.created', ID, '2021-09-24T14:26:07.000Z', { kind: 'ci-job', name: 'example-workflow', namespace: 'octo-org', owner: 'octo-org', labels: labels(false) }), session] },
    ]);
  });

  it('github-docs-oidc-token-header.json: a JOSE header alone is not a token', () => {
    expect(mapFixture(githubOidcAdapter(), 'github-actions-oidc/github-docs-oidc-token-header.json')).toEqual([{ deadLetter: { reason: 'unsupported', message: 'a JOSE header without claims: feed the token or its decoded claims' } }]);
  });
});

describe('github actions oidc: tokens and repeated runs', () => {
  const claims = JSON.parse(fixture('github-actions-oidc/github-docs-oidc-token-claims.json')) as Record<string, unknown>;
  const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const jwt = `${b64url({ typ: 'JWT', alg: 'RS256', kid: 'example-key-id' })}.${b64url(claims)}.c2lnbmF0dXJl`;

  it('decodes a compact JWT line (unverified: labelled so) the same way as its claims', () => {
    const out = outcomes(mapText(githubOidcAdapter(), jwt, { receivedAt: RECEIVED_AT }));
    expect(out).toEqual(mapFixture(githubOidcAdapter(), 'github-actions-oidc/github-docs-oidc-token-claims.json'));
  });

  it('takes the claims a verifying shell wraps, labelled verified', () => {
    const out = outcomes(mapText(githubOidcAdapter(), JSON.stringify({ claims, verified: true }), { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([{ events: [expect.objectContaining({ type: 'identity.created', data: expect.objectContaining({ labels: labels(true) }) }), session] }]);
  });

  it('updates the labels of a known job identity with the new run instead of re-creating it', () => {
    const next = { ...claims, jti: 'second', run_id: '11', run_attempt: '1', sha: 'def456', iat: 1632500000, exp: 1632500900 };
    const out = outcomes(mapText(githubOidcAdapter(), [JSON.stringify(claims), JSON.stringify(next)].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[1]).toEqual({
      events: [
        ev(G, 'github:second/labels', 'identity.updated', ID, '2021-09-24T16:13:20.000Z', { labels: { ...labels(false), sha: 'def456', run_id: '11', run_attempt: '1' } }),
        ev(G, 'github:second/session', 'session.started', ID, '2021-09-24T16:13:20.000Z', {
          sessionId: 'github:octo-org/octo-repo/runs/11/attempts/1',
          system: 'github-actions',
          expiresAt: '2021-09-24T16:28:20.000Z',
          tokenId: 'second',
          task: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
        }),
      ],
    });
  });

  it('names a job without an environment after its repository, and rejects tokens of other issuers', () => {
    const { environment: _e, ...noEnv } = claims;
    const other = { ...claims, iss: 'https://gitlab.example.com' };
    const out = outcomes(mapText(githubOidcAdapter({ announce: 'never' }), [JSON.stringify(noEnv), JSON.stringify(other)].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[0]).toMatchObject({ events: [{ subject: 'github:octo-org/octo-repo' }, { subject: 'github:octo-org/octo-repo' }] });
    expect(out[1]).toEqual({ deadLetter: { reason: 'schema-invalid', message: 'not GitHub Actions OIDC token claims: iss: iss is not a GitHub Actions token issuer' } });
  });
});
