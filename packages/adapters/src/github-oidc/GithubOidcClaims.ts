import { z } from 'zod';

const str = z.string().max(1024);

/** Claims of a GitHub Actions OIDC token (github.com or GitHub Enterprise Server). */
export const GithubOidcClaims = z.looseObject({
  iss: z.string().regex(/^https:\/\/(token\.actions\.githubusercontent\.com|[^/]+\/_services\/token)(\/.*)?$/, 'iss is not a GitHub Actions token issuer'),
  sub: z.string().regex(/^repo:/, 'sub must start with repo:').max(1024),
  aud: z.union([str, z.array(str)]).optional(),
  jti: str.optional(),
  iat: z.number().optional(),
  nbf: z.number().optional(),
  exp: z.number(),
  repository: z.string().min(1).max(256),
  repository_id: str.optional(),
  repository_owner: z.string().min(1).max(256),
  repository_owner_id: str.optional(),
  repository_visibility: str.optional(),
  ref: str.optional(),
  ref_type: str.optional(),
  sha: str.optional(),
  environment: str.optional(),
  workflow: str.optional(),
  workflow_ref: str.optional(),
  job_workflow_ref: str.optional(),
  run_id: str.optional(),
  run_number: str.optional(),
  run_attempt: str.optional(),
  actor: str.optional(),
  actor_id: str.optional(),
  event_name: str.optional(),
  runner_environment: str.optional(),
  head_ref: str.optional(),
  base_ref: str.optional(),
});
export type GithubOidcClaims = z.infer<typeof GithubOidcClaims>;
