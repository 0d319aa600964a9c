import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { canonicalJson } from '../common/canonicalJson.js';
import { identityEventInput, idPart, labelsOf, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { sha256Hex } from '../common/sha256.js';
import type { GithubOidcClaims } from './GithubOidcClaims.js';

export type GithubOidcOptions = CommonAdapterOptions;

export const GITHUB_SOURCE = 'livescope-adapter/github-oidc';

/** `github:<owner>/<repo>@<environment>`, or `github:<owner>/<repo>` for jobs without an environment. */
export function githubIdentityId(c: Pick<GithubOidcClaims, 'repository' | 'environment'>): string {
  return `github:${idPart(c.repository)}${c.environment ? `@${idPart(c.environment)}` : ''}`;
}

/** The labels policies can read as release-window and deployment context (`principal.labels.environment`, `.ref`…). */
export function githubLabels(c: GithubOidcClaims, verified: boolean): Record<string, string> {
  return labelsOf({
    source: 'github-actions',
    repository: c.repository,
    repository_owner: c.repository_owner,
    repository_visibility: c.repository_visibility,
    ref: c.ref,
    ref_type: c.ref_type,
    sha: c.sha,
    environment: c.environment,
    workflow: c.workflow,
    job_workflow_ref: c.job_workflow_ref,
    event_name: c.event_name,
    runner_environment: c.runner_environment,
    run_id: c.run_id,
    run_attempt: c.run_attempt,
    actor: c.actor,
    token_verified: String(verified),
  });
}

/**
 * A GitHub Actions OIDC token (its claims) → the CI job's identity and a session for the run:
 * `identity.created` (first seen), `identity.updated` with the run's labels (ref, sha, environment,
 * workflow…, so policies see the current run), and `session.started` for the run attempt, ending
 * when the token expires.
 */
export function mapGithubOidcClaims(c: GithubOidcClaims, verified: boolean): Mapped {
  const key = `github:${c.jti ? idPart(c.jti) : `sha256-${sha256Hex(canonicalJson(c)).slice(0, 32)}`}`;
  const time = new Date((c.iat ?? c.nbf ?? c.exp) * 1000).toISOString();
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: GITHUB_SOURCE });
  const labels = githubLabels(c, verified);
  const identity: IdentityDescription = { id: githubIdentityId(c), kind: 'ci-job', name: c.workflow ?? c.repository, namespace: c.repository_owner, owner: c.repository_owner, labels };
  const sessionId = c.run_id ? `github:${idPart(c.repository)}/runs/${idPart(c.run_id)}/attempts/${idPart(c.run_attempt ?? '1')}` : `${key}/session`;
  return {
    events: [
      identityEventInput('identity.updated', identity.id, { labels }, stamp('labels')),
      identityEventInput('session.started', identity.id, { sessionId, system: 'github-actions', expiresAt: new Date(c.exp * 1000).toISOString(), ...(c.jti ? { tokenId: idPart(c.jti) } : {}), task: c.job_workflow_ref ?? c.workflow ?? 'workflow' }, stamp('session')),
    ],
    identities: [identity],
    recordKey: key,
    time,
    source: GITHUB_SOURCE,
  };
}
