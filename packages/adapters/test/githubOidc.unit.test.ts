import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { createMapper } from '../src/common/createMapper.js';
import { githubOidcAdapter } from '../src/github-oidc/githubOidcAdapter.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const G = 'livescope-adapter/github-oidc';
const ID = 'github:octo-org/octo-repo@prod';
/** Only what every run of the repository and environment shares: per-run facts are on the run's session. */
const labels = (verified: boolean) => ({
  source: 'github-actions',
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_id: '74',
  repository_visibility: 'private',
  environment: 'prod',
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
  it('github-docs-oidc-token-claims.json: a CI job identity (shared facts only) and a session of the run until the token expires', () => {
    expect(mapFixture(githubOidcAdapter(), 'github-actions-oidc/github-docs-oidc-token-claims.json')).toEqual([
      { events: [ev(G, 'github:example-id/identity-f8c76bd8c2db491e', 'identity.created', ID, '2021-09-24T14:26:07.000Z', { kind: 'ci-job', name: 'octo-org/octo-repo', namespace: 'octo-org', owner: 'octo-org', labels: labels(false) }), session] },
    ]);
  });

  it('github-docs-oidc-token-header.json: a JOSE header alone is not a token', () => {
    expect(mapFixture(githubOidcAdapter(), 'github-actions-oidc/github-docs-oidc-token-header.json')).toEqual([{ deadLetter: { reason: 'unsupported', message: 'a JOSE header without claims (alg but no iss): feed the token or its decoded claims' } }]);
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

  it('labels a token verified only when the shell verified it (AdapterInput.verified)', () => {
    const mapper = createMapper(githubOidcAdapter(), () => ({ receivedAt: RECEIVED_AT }));
    const out = outcomes(mapper.push({ raw: jwt, parsed: { ok: false, error: 'not JSON' }, verified: true }));
    expect(out).toEqual([{ events: [expect.objectContaining({ type: 'identity.created', data: expect.objectContaining({ labels: labels(true) }) }), session] }]);
  });

  it('regression (issue 14): a caller-supplied "verified": true no longer yields token_verified=true', () => {
    // The old adapter took `{"claims": …, "verified": true}` from the record itself, so anyone posting to the
    // webhook could mark decoded claims as verified. Only the shell's verifier sets `verified` now.
    const forged = JSON.stringify({ claims, verified: true });
    const out = outcomes(mapText(githubOidcAdapter(), forged, { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([{ deadLetter: expect.objectContaining({ reason: 'schema-invalid' }) }]);
    const inline = outcomes(mapText(githubOidcAdapter(), JSON.stringify({ ...claims, verified: true, token_verified: 'true' }), { receivedAt: RECEIVED_AT }));
    expect(inline[0]).toMatchObject({ events: [{ type: 'identity.created', data: { labels: { token_verified: 'false' } } }, { type: 'session.started' }] });
  });

  it('keeps per-run facts off the identity: a second run of the same repository starts its own session and rewrites no label', () => {
    const next = { ...claims, jti: 'second', run_id: '11', run_attempt: '1', sha: 'def456', ref: 'refs/heads/feature', event_name: 'pull_request', iat: 1632500000, exp: 1632500900 };
    const out = outcomes(mapText(githubOidcAdapter(), [JSON.stringify(claims), JSON.stringify(next)].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[1]).toEqual({
      events: [
        ev(G, 'github:second/session', 'session.started', ID, '2021-09-24T16:13:20.000Z', {
          sessionId: 'github:octo-org/octo-repo/runs/11/attempts/1',
          system: 'github-actions',
          expiresAt: '2021-09-24T16:28:20.000Z',
          tokenId: 'second',
          task: 'octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main',
        }),
      ],
    });
    expect(JSON.stringify(out)).not.toContain('identity.updated');
  });

  it('uses exp for the session end: tokens live from 5 minutes to 6 hours', () => {
    const long = { ...claims, jti: 'long', iat: 1632493567, exp: 1632493567 + 6 * 3600 };
    const out = outcomes(mapText(githubOidcAdapter({ announce: 'never' }), JSON.stringify(long), { receivedAt: RECEIVED_AT }));
    expect(out[0]).toMatchObject({ events: [{ data: { expiresAt: '2021-09-24T20:26:07.000Z' } }] });
  });

  it('names a job without an environment after its repository, and rejects tokens of other issuers', () => {
    const { environment: _e, ...noEnv } = claims;
    const other = { ...claims, iss: 'https://gitlab.example.com' };
    const out = outcomes(mapText(githubOidcAdapter({ announce: 'never' }), [JSON.stringify(noEnv), JSON.stringify(other)].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[0]).toMatchObject({ events: [{ subject: 'github:octo-org/octo-repo' }] });
    expect(out[1]).toEqual({ deadLetter: { reason: 'schema-invalid', message: 'not GitHub Actions OIDC token claims: iss: iss is not a GitHub Actions token issuer' } });
  });
});
