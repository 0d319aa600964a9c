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
export function githubIdentityId(c: { readonly repository: string; readonly environment?: string | undefined }): string {
  return `github:${idPart(c.repository)}${c.environment ? `@${idPart(c.environment)}` : ''}`;
}

/**
 * The labels of the CI job's identity: only what every run of `repository` + `environment` shares.
 * Per-run facts (`ref`, `sha`, `event_name`, `actor`, `run_id`, `workflow`…) differ between
 * concurrent runs of one identity, so they belong to the run's session (its id and task), never to
 * the identity, where one run would overwrite what a policy sees for another.
 */
export function githubLabels(c: GithubOidcClaims, verified: boolean): Record<string, string> {
  return labelsOf({
    source: 'github-actions',
    repository: c.repository,
    repository_owner: c.repository_owner,
    repository_id: c.repository_id,
    repository_visibility: c.repository_visibility,
    environment: c.environment,
    token_verified: String(verified),
  });
}

/** What the run executed, with the ref it ran at: `job_workflow_ref` (reusable workflows), else `workflow_ref`, else the workflow name. */
export const githubRunTask = (c: GithubOidcClaims): string => c.job_workflow_ref ?? c.workflow_ref ?? c.workflow ?? 'workflow';

/**
 * A GitHub Actions OIDC token (its claims) → the CI job's identity (announced the first time, with
 * the labels every run shares) and a session for the run attempt: `sessionId` names the run and
 * attempt, `task` the workflow and ref that ran, `tokenId` the token, `expiresAt` its `exp` (tokens
 * live 5 minutes to 6 hours).
 */
export function mapGithubOidcClaims(c: GithubOidcClaims, verified: boolean): Mapped {
  const key = `github:${c.jti ? idPart(c.jti) : `sha256-${sha256Hex(canonicalJson(c)).slice(0, 32)}`}`;
  const time = new Date((c.iat ?? c.nbf ?? c.exp) * 1000).toISOString();
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: GITHUB_SOURCE });
  const identity: IdentityDescription = { id: githubIdentityId(c), kind: 'ci-job', name: c.repository, namespace: c.repository_owner, owner: c.repository_owner, labels: githubLabels(c, verified) };
  const sessionId = c.run_id ? `github:${idPart(c.repository)}/runs/${idPart(c.run_id)}/attempts/${idPart(c.run_attempt ?? '1')}` : `${key}/session`;
  return {
    events: [identityEventInput('session.started', identity.id, { sessionId, system: 'github-actions', expiresAt: new Date(c.exp * 1000).toISOString(), ...(c.jti ? { tokenId: idPart(c.jti) } : {}), task: githubRunTask(c).slice(0, 256) }, stamp('session'))],
    identities: [identity],
    recordKey: key,
    time,
    source: GITHUB_SOURCE,
  };
}
