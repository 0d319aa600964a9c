import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents } from '../common/MappingResult.js';
import { isIp } from '../common/network.js';
import { normalizeTime, parseAwsExpiration } from '../common/normalizeTime.js';
import { personSkipped } from '../common/personSkipped.js';
import { githubIdentityId } from '../github-oidc/mapGithubOidcClaims.js';
import { serviceAccountIdentity } from '../k8s/k8sIdentity.js';
import { callerOf, isSsoRole, parseRoleArn, roleIdentity } from './awsIdentity.js';
import { awsResources } from './awsResources.js';
import type { CloudTrailEvent } from './CloudTrailEvent.js';

export interface CloudTrailOptions extends CommonAdapterOptions {
  /** `enforcerId` of the out-of-scope evidence (AccessDenied and friends). Default `aws-iam`. */
  readonly enforcerId: string;
  /**
   * Lifetime assumed for a role session first seen in use (its AssumeRole was not in the input), from
   * its `creationDate` (ms). Default 12 h, the longest a role session can last, so a live session is
   * never taken for an ended one.
   */
  readonly defaultSessionTtlMs: number;
  /** Emit `session.started` for an assumed-role session first seen in use. Default true. */
  readonly implicitSessions: boolean;
}

export interface CloudTrailMemoryView {
  sessionKnown(sessionId: string): boolean;
}

export interface CloudTrailMapping {
  readonly mapped: Mapped;
  readonly sessions: readonly string[];
}

export const CLOUDTRAIL_SOURCE = 'livescope-adapter/cloudtrail';
const ASSUME = new Set(['AssumeRole', 'AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML']);
const DENIAL = /AccessDenied|Unauthorized|ExpiredToken|Forbidden|AuthFailure/i;
const ACCESS_KEY = /^(ASIA|AKIA)[A-Z0-9]{12,}$/;
/** Session tags EKS Pod Identity puts on the role session of a pod. */
const POD_IDENTITY_NAMESPACE = 'kubernetes-namespace';
const POD_IDENTITY_SERVICE_ACCOUNT = 'kubernetes-service-account';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The IAM-style action of an event: `<service>:<eventName>`, e.g. `secretsmanager:GetSecretValue`. */
export const awsAction = (e: CloudTrailEvent): string => `${e.eventSource.split('.')[0]}:${e.eventName}`;

/** The first resource an event acted on (see `awsResources`). */
export const awsResource = (e: CloudTrailEvent): string => awsResources(e)[0]!;

/** Session tags of an AssumeRole/TagSession request: `[{key, value}]` (or `{Key, Value}`), or `principalTags`. */
function sessionTags(e: CloudTrailEvent): Record<string, string> {
  const out: Record<string, string> = {};
  const p = e.requestParameters ?? {};
  for (const t of Array.isArray(p.tags) ? p.tags : []) {
    const k = str((t as { key?: unknown; Key?: unknown })?.key ?? (t as { Key?: unknown })?.Key);
    const v = str((t as { value?: unknown; Value?: unknown })?.value ?? (t as { Value?: unknown })?.Value);
    if (k && v) out[k] = v;
  }
  const principal = (e.responseElements?.principalTags ?? p.principalTags) as Record<string, unknown> | undefined;
  if (principal && typeof principal === 'object') for (const [k, v] of Object.entries(principal)) if (str(v)) out[k] = v as string;
  return out;
}

/**
 * Who holds a role session besides the role: the Kubernetes service account EKS gave it (Pod Identity
 * session tags, or the IRSA web-identity subject `system:serviceaccount:<ns>:<sa>`), or the GitHub
 * Actions job whose OIDC token it was exchanged for (`repo:<owner>/<repo>:…`).
 */
function sessionHolder(e: CloudTrailEvent, tags: Record<string, string>): { identity: IdentityDescription; field: string } | undefined {
  const ns = tags[POD_IDENTITY_NAMESPACE];
  const sa = tags[POD_IDENTITY_SERVICE_ACCOUNT];
  if (ns && sa) return { identity: serviceAccountIdentity(ns, sa), field: 'requestParameters.tags' };
  const subject = str(e.responseElements?.subjectFromWebIdentityToken) ?? (e.userIdentity.type === 'WebIdentityUser' ? e.userIdentity.userName : undefined);
  const irsa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject ?? '');
  if (irsa) return { identity: serviceAccountIdentity(irsa[1]!, irsa[2]!), field: 'responseElements.subjectFromWebIdentityToken' };
  const provider = str(e.responseElements?.provider) ?? e.userIdentity.identityProvider ?? '';
  const gh = /^repo:([^:]+\/[^:]+):(.*)$/.exec(subject ?? '');
  if (gh && provider.includes('token.actions.githubusercontent.com')) {
    const env = /(?:^|:)environment:([^:]+)/.exec(gh[2]!)?.[1];
    const repository = gh[1]!;
    return { identity: { id: githubIdentityId({ repository, environment: env }), kind: 'ci-job', name: repository, namespace: repository.split('/')[0]!, labels: { source: 'github-actions', repository } }, field: 'responseElements.subjectFromWebIdentityToken' };
  }
  return undefined;
}

function secretAccess(e: CloudTrailEvent): { secretPath: string; operation: 'read' | 'write' | 'list' | 'delete'; system: string } | undefined {
  const p = e.requestParameters ?? {};
  if (e.eventSource === 'secretsmanager.amazonaws.com') {
    const op = ({ GetSecretValue: 'read', BatchGetSecretValue: 'read', PutSecretValue: 'write', UpdateSecret: 'write', CreateSecret: 'write', RotateSecret: 'write', DeleteSecret: 'delete', ListSecrets: 'list' } as const)[e.eventName];
    if (!op) return undefined;
    return { secretPath: str(p.secretId) ?? str(p.name) ?? '*', operation: op, system: 'aws-secretsmanager' };
  }
  if (e.eventSource === 'ssm.amazonaws.com' && p.withDecryption === true && ['GetParameter', 'GetParameters', 'GetParametersByPath'].includes(e.eventName)) {
    const names = Array.isArray(p.names) ? p.names.filter((n): n is string => typeof n === 'string') : [];
    return { secretPath: str(p.name) ?? str(p.path) ?? names[0] ?? '*', operation: 'read', system: 'aws-ssm' };
  }
  return undefined;
}

/**
 * Maps one CloudTrail event. Pure: the memory view only tells which role sessions were already
 * started in this input (for implicit sessions).
 */
export function mapCloudTrailEvent(e: CloudTrailEvent, memory: CloudTrailMemoryView, options: CloudTrailOptions): CloudTrailMapping {
  const time = normalizeTime(e.eventTime);
  if (!time) return { mapped: deadLetter('schema-invalid', `cloudtrail event ${e.eventID}: eventTime ${JSON.stringify(e.eventTime)} is not a timestamp`), sessions: [] };
  const key = `aws:${e.eventID}`;
  const stamp = (suffix: string, k = key): EventStamp => ({ id: `${k}/${suffix}`, time, source: CLOUDTRAIL_SOURCE });
  const events: LivescopeEventInput[] = [];
  const identities: IdentityDescription[] = [];
  const sessions: string[] = [];
  const uses: CredentialUse[] = [];
  const caller = callerOf(e.userIdentity);
  const action = awsAction(e);
  const resources = awsResources(e);
  const resource = resources[0]!;
  const sourceIpText = e.sourceIPAddress && isIp(e.sourceIPAddress) ? e.sourceIPAddress : undefined;
  const sourceIp = sourceIpText ? { sourceIp: clip(sourceIpText, 64) } : {};
  const human = (actor: string, field: string, message: string) =>
    personSkipped(options.humans, message, { source: 'cloudtrail', actor, actorField: field, time, action, resource, ...(sourceIpText ? { sourceIp: sourceIpText } : {}), outcome: e.errorCode ? (DENIAL.test(e.errorCode) ? 'denied' : 'failure') : 'success' });
  const notIdentity = (what: string): Mapped => (caller.kind === 'human' ? human(caller.actor, caller.field, `${what}: ${caller.why}`) : caller.kind === 'skip' ? noEvents('unattributed', caller.field, `${what}: ${caller.why}`) : noEvents('no-effect', 'eventName', what));
  const done = (why: Mapped): CloudTrailMapping => (events.length ? { mapped: { events, identities, recordKey: key, time, source: CLOUDTRAIL_SOURCE, ...(uses.length ? { uses } : {}) }, sessions } : { mapped: why, sessions });

  let sessionId: string | undefined;
  if (caller.kind === 'identity') {
    identities.push(caller.identity);
    sessionId = caller.sessionId;
    if (sessionId && options.implicitSessions && !memory.sessionKnown(sessionId)) {
      const started = normalizeTime(caller.sessionStartedAt) ?? time;
      const accessKey = e.userIdentity.accessKeyId && ACCESS_KEY.test(e.userIdentity.accessKeyId) ? { tokenId: e.userIdentity.accessKeyId } : {};
      events.push(identityEventInput('session.started', caller.identity.id, { sessionId, system: 'aws-sts', expiresAt: new Date(Date.parse(started) + options.defaultSessionTtlMs).toISOString(), ...accessKey }, stamp('session')));
      sessions.push(sessionId);
    }
    // The access key in use, from where: a token used from two networks, or an instance's credentials
    // used outside AWS, is replay (the detector stage decides).
    const accessKey = e.userIdentity.accessKeyId;
    if (accessKey && sourceIpText && !e.vpcEndpointId) {
      uses.push({ identityId: caller.identity.id, credentialId: accessKey, ...(sessionId ? { sessionId } : {}), sourceIp: sourceIpText, time, recordKey: key, action, ...(caller.instanceId ? { boundTo: { platform: 'aws-ec2', machine: caller.instanceId } } : {}) });
    }
  }
  const withSession = sessionId ? { sessionId } : {};

  // Sign-in to the console as a non-human identity is a person using it.
  if (e.eventSource === 'signin.amazonaws.com' && (e.eventName === 'ConsoleLogin' || e.eventType === 'AwsConsoleSignIn')) {
    if (caller.kind !== 'identity') return done(notIdentity(`console sign-in (${e.eventName})`));
    const outcome = str(e.responseElements?.ConsoleLogin) ?? (e.errorMessage ? 'Failure' : 'Success');
    if (outcome === 'Success') {
      events.push(identityEventInput('telemetry.human-use-detected', caller.identity.id, { evidence: clip(`AWS console sign-in (${e.eventName}) from ${e.userAgent ?? 'unknown agent'}`, 1024), ...sourceIp, ...withSession }, stamp('human-use')));
    } else {
      events.push(
        identityEventInput(
          'enforcement.decisions',
          caller.identity.id,
          { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action, resource: str(e.additionalEventData?.LoginTo) ?? 'console', allowed: 0, denied: 1, reason: clip(`console sign-in failed: ${e.errorMessage ?? 'unknown reason'}`, 1024) }] },
          stamp('denied'),
        ),
      );
    }
    return done(noEvents('no-effect', 'eventName', 'console sign-in'));
  }

  // Denials (and expired credentials): out-of-scope evidence of the caller.
  if (e.errorCode && DENIAL.test(e.errorCode)) {
    if (caller.kind !== 'identity') return done(notIdentity(`errorCode ${e.errorCode}`));
    const reason = clip(e.errorMessage ? `${e.errorCode}: ${e.errorMessage}` : e.errorCode, 1024);
    events.push(identityEventInput('enforcement.decisions', caller.identity.id, { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action, resource, ...withSession, allowed: 0, denied: 1, reason }] }, stamp('denied')));
    return done(noEvents('no-effect', 'errorCode', e.errorCode));
  }

  // AssumeRole*: a session of the target role. Both accounts log a cross-account call with the same
  // sharedEventID, so the session event takes its id from it and the two copies are one event.
  if (e.eventSource === 'sts.amazonaws.com' && ASSUME.has(e.eventName) && !e.errorCode) {
    const p = e.requestParameters ?? {};
    const target = parseRoleArn(str(p.roleArn));
    if (!target) return done(noEvents('incomplete', 'requestParameters.roleArn', `${e.eventName} without requestParameters.roleArn`));
    if (caller.kind === 'identity') events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource: target.arn }, stamp('activity')));
    if (e.eventName === 'AssumeRoleWithSAML') return done(human(e.userIdentity.userName ?? e.userIdentity.principalId ?? target.arn, 'eventName', `role ${target.name} assumed through AssumeRoleWithSAML (a person's session)`));
    if (isSsoRole(target.name)) return done(human(str(p.roleSessionName) ?? target.arn, 'requestParameters.roleArn', `role ${target.name} is an IAM Identity Center permission set (a person's session)`));
    const res = e.responseElements ?? {};
    const credentials = (res.credentials ?? {}) as Record<string, unknown>;
    const assumed = (res.assumedRoleUser ?? {}) as Record<string, unknown>;
    const roleSession = str(p.roleSessionName) ?? 'session';
    const targetSession = str(assumed.arn) ?? `arn:aws:sts::${target.account}:assumed-role/${target.name}/${roleSession}`;
    const duration = typeof p.durationSeconds === 'number' && p.durationSeconds > 0 ? p.durationSeconds * 1000 : 3_600_000;
    const expiresAt = parseAwsExpiration(credentials.expiration) ?? new Date(Date.parse(time) + duration).toISOString();
    const accessKeyId = str(credentials.accessKeyId);
    const tokenId = accessKeyId && ACCESS_KEY.test(accessKeyId) ? { tokenId: accessKeyId } : {};
    const identity = roleIdentity(target.account, target.name, {
      'aws.role_arn': target.arn,
      'aws.web_identity_provider': str(res.provider) ?? (e.userIdentity.type === 'WebIdentityUser' ? e.userIdentity.identityProvider : undefined),
      'aws.web_identity_audience': str(res.audience),
      'aws.assumed_by': e.userIdentity.type === 'AWSService' ? e.userIdentity.invokedBy : undefined,
    });
    identities.push(identity);
    const sessionKey = `aws:${e.sharedEventID ?? e.eventID}`;
    events.push(identityEventInput('session.started', identity.id, { sessionId: targetSession, system: 'aws-sts', expiresAt, ...tokenId }, stamp('session', sessionKey)));
    sessions.push(targetSession);
    // The workload that holds the session gets it too: revoking or quarantining the workload ends it.
    const holder = sessionHolder(e, sessionTags(e));
    if (holder) {
      identities.push(holder.identity);
      events.push(identityEventInput('session.started', holder.identity.id, { sessionId: targetSession, system: 'aws-sts', expiresAt, ...tokenId, task: clip(`aws-role:${target.arn}`, 256) }, stamp('holder-session', sessionKey)));
    }
    return done(noEvents('no-effect', 'eventName', e.eventName));
  }

  // GetFederationToken: a federated-user session of the IAM user that minted it.
  if (e.eventSource === 'sts.amazonaws.com' && e.eventName === 'GetFederationToken' && !e.errorCode && caller.kind === 'identity') {
    const res = e.responseElements ?? {};
    const credentials = (res.credentials ?? {}) as Record<string, unknown>;
    const federated = str((res.federatedUser as Record<string, unknown> | undefined)?.arn) ?? `arn:aws:sts::${caller.identity.namespace}:federated-user/${str(e.requestParameters?.name) ?? 'unknown'}`;
    const p = e.requestParameters ?? {};
    const duration = typeof p.durationSeconds === 'number' && p.durationSeconds > 0 ? p.durationSeconds * 1000 : 12 * 3_600_000;
    const accessKeyId = str(credentials.accessKeyId);
    events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource: federated }, stamp('activity')));
    events.push(
      identityEventInput(
        'session.started',
        caller.identity.id,
        { sessionId: federated, system: 'aws-sts', expiresAt: parseAwsExpiration(credentials.expiration) ?? new Date(Date.parse(time) + duration).toISOString(), ...(accessKeyId && ACCESS_KEY.test(accessKeyId) ? { tokenId: accessKeyId } : {}) },
        stamp('federation-session'),
      ),
    );
    sessions.push(federated);
    return done(noEvents('no-effect', 'eventName', e.eventName));
  }

  if (caller.kind !== 'identity') return done(notIdentity(`${action} call`));
  const secret = secretAccess(e);
  if (secret && !e.errorCode) {
    events.push(identityEventInput('secret.accessed', caller.identity.id, { ...secret, ...withSession }, stamp('access')));
    return done(noEvents('no-effect', 'eventName', action));
  }
  resources.forEach((r, i) => events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource: r }, stamp(i === 0 ? 'activity' : `activity-${i}`))));
  return done(noEvents('no-effect', 'eventName', action));
}

export const cloudTrailUnsupported = (why: string): ReturnType<typeof deadLetter> => deadLetter('unsupported', why);
