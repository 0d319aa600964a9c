import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { idPart, labelsOf } from '../common/eventBuilders.js';
import { roleIdentity, isSsoRole } from '../cloudtrail/awsIdentity.js';
import { githubIdentityId } from '../github-oidc/mapGithubOidcClaims.js';
import { serviceAccountIdentity } from '../k8s/k8sIdentity.js';

export type GcpPrincipal =
  | { readonly kind: 'identity'; readonly identity: IdentityDescription; readonly field: string; readonly via: 'service-account' | 'workload-identity' }
  | { readonly kind: 'human'; readonly actor: string; readonly field: string; readonly why: string }
  | { readonly kind: 'skip'; readonly field: string; readonly why: string };

const SA_EMAIL = /^[^@\s]+@([^@\s]+\.)?(gserviceaccount\.com)$/;
/** `principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/subject/<subject>` */
const WIF = /^principal:\/\/iam\.googleapis\.com\/projects\/([^/]+)\/locations\/[^/]+\/workloadIdentityPools\/([^/]+)\/subject\/(.+)$/;
const WORKFORCE = /^principal:\/\/iam\.googleapis\.com\/locations\/[^/]+\/workforcePools\//;

/** A Google service account → `gcp:sa/<email>`, in the project its email names (else the log's project). */
export function serviceAccountOf(email: string, project: string | undefined): IdentityDescription {
  const [local, domain] = email.split('@') as [string, string];
  const fromDomain = /^([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(domain)?.[1];
  const appspot = domain === 'appspot.gserviceaccount.com' ? local : undefined;
  const namespace = fromDomain ?? appspot ?? project ?? 'gcp';
  const agent = domain.startsWith('gcp-sa-') || domain === 'cloudservices.gserviceaccount.com' || /^service-\d+$/.test(local);
  return { id: `gcp:sa/${idPart(email)}`, kind: 'service-account', name: local, namespace, labels: labelsOf({ source: 'gcp', 'gcp.email': email, 'gcp.service_agent': agent ? 'true' : undefined }) };
}

/**
 * The identity a workload-identity-federation subject stands for. Subjects that name an identity
 * another adapter knows are that identity, so a GCP session is tied to the workload holding it:
 * GKE Workload Identity (`<project>.svc.id.goog` pool, `ns/<ns>/sa/<sa>`) and Kubernetes issuers
 * (`system:serviceaccount:<ns>:<sa>`) → `k8s:<ns>/<sa>`; GitHub Actions (`repo:<owner>/<repo>:…`) →
 * `github:<owner>/<repo>[@<environment>]`; AWS roles → `aws:<account>:role/<name>`. Anything else is
 * `gcp:wif/<project number>/<pool>/<subject>`.
 */
export function federatedIdentity(principal: string, field: string): GcpPrincipal | undefined {
  const m = WIF.exec(principal);
  if (!m) return undefined;
  const [, projectNumber, pool, subject] = m as unknown as [string, string, string, string];
  const gke = /^ns\/([^/]+)\/sa\/([^/]+)$/.exec(subject);
  if (gke && pool.endsWith('.svc.id.goog')) return { kind: 'identity', field, via: 'workload-identity', identity: serviceAccountIdentity(gke[1]!, gke[2]!) };
  const k8s = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
  if (k8s) return { kind: 'identity', field, via: 'workload-identity', identity: serviceAccountIdentity(k8s[1]!, k8s[2]!) };
  const gh = /^repo:([^:]+\/[^:]+):(.*)$/.exec(subject);
  if (gh) {
    const environment = /(?:^|:)environment:([^:]+)/.exec(gh[2]!)?.[1];
    return { kind: 'identity', field, via: 'workload-identity', identity: { id: githubIdentityId({ repository: gh[1]!, environment }), kind: 'ci-job', name: gh[1]!, namespace: gh[1]!.split('/')[0]!, labels: { source: 'github-actions', repository: gh[1]! } } };
  }
  const aws = /^arn:aws[a-z-]*:(?:sts::(\d{12}):assumed-role\/([^/]+)|iam::(\d{12}):role\/(?:.*\/)?([^/]+))/.exec(subject);
  if (aws) {
    const account = (aws[1] ?? aws[3])!;
    const role = (aws[2] ?? aws[4])!;
    if (isSsoRole(role)) return { kind: 'human', actor: subject, field, why: `${field} ${subject}: an IAM Identity Center role (a person's session)` };
    return { kind: 'identity', field, via: 'workload-identity', identity: roleIdentity(account, role, { 'aws.role_arn': `arn:aws:iam::${account}:role/${role}` }) };
  }
  return { kind: 'identity', field, via: 'workload-identity', identity: { id: `gcp:wif/${idPart(projectNumber)}/${idPart(pool)}/${idPart(subject)}`, kind: 'workload', name: subject.slice(0, 256), namespace: pool, labels: labelsOf({ source: 'gcp', 'gcp.workload_identity_pool': pool, 'gcp.project_number': projectNumber }) } };
}

/**
 * The caller of a Cloud Audit Logs entry (`protoPayload.authenticationInfo`), first match:
 * a workload-identity-federation `principalSubject` (see `federatedIdentity`); a service-account
 * `principalEmail` (`*.gserviceaccount.com`) or `principalSubject: serviceAccount:<email>` →
 * `gcp:sa/<email>`; workforce pools, `user:` subjects and other emails → people; no principal
 * (Google-internal callers) → unattributed.
 */
export function gcpCaller(auth: { principalEmail?: string | undefined; principalSubject?: string | undefined }, project: string | undefined): GcpPrincipal {
  const subject = auth.principalSubject;
  const email = auth.principalEmail;
  if (subject) {
    const wif = federatedIdentity(subject, 'protoPayload.authenticationInfo.principalSubject');
    if (wif) return wif;
    if (WORKFORCE.test(subject)) return { kind: 'human', actor: subject, field: 'protoPayload.authenticationInfo.principalSubject', why: `principalSubject ${subject} is a workforce-pool identity (a person)` };
  }
  const saEmail = email && SA_EMAIL.test(email) ? email : subject?.startsWith('serviceAccount:') ? subject.slice('serviceAccount:'.length) : undefined;
  if (saEmail) return { kind: 'identity', field: email ? 'protoPayload.authenticationInfo.principalEmail' : 'protoPayload.authenticationInfo.principalSubject', via: 'service-account', identity: serviceAccountOf(saEmail, project) };
  if (email) return { kind: 'human', actor: email, field: 'protoPayload.authenticationInfo.principalEmail', why: `principalEmail ${email} is not a service account: a person` };
  if (subject?.startsWith('user:')) return { kind: 'human', actor: subject.slice(5), field: 'protoPayload.authenticationInfo.principalSubject', why: `principalSubject ${subject}: a person` };
  if (subject) return { kind: 'skip', field: 'protoPayload.authenticationInfo.principalSubject', why: `principalSubject ${subject} is not a service account or a workload identity pool subject` };
  return { kind: 'skip', field: 'protoPayload.authenticationInfo.principalEmail', why: 'protoPayload.authenticationInfo names no principal (a Google-internal caller)' };
}
