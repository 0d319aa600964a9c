import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { clip, identityEventInput, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents } from '../common/MappingResult.js';
import { normalizeTime, parseAwsExpiration } from '../common/normalizeTime.js';
import { callerOf, isSsoRole, parseRoleArn, roleIdentity } from './awsIdentity.js';
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

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The IAM-style action of an event: `<service>:<eventName>`, e.g. `secretsmanager:GetSecretValue`. */
export const awsAction = (e: CloudTrailEvent): string => `${e.eventSource.split('.')[0]}:${e.eventName}`;

/** The resource an event acted on: its first `resources[]` ARN, else one derived from well-known parameters. */
export function awsResource(e: CloudTrailEvent): string {
  const r = e.resources?.[0];
  const fromResources = r?.ARN ?? r?.arn;
  if (fromResources) return fromResources;
  const p = e.requestParameters ?? {};
  const account = e.recipientAccountId ?? e.userIdentity.accountId ?? '';
  if (str(p.secretId)) return str(p.secretId)!;
  if (str(p.roleArn)) return str(p.roleArn)!;
  if (str(p.bucketName)) return `arn:aws:s3:::${str(p.bucketName)}`;
  if (str(p.instanceId)) return `arn:aws:ec2:${e.awsRegion ?? ''}:${account}:instance/${str(p.instanceId)}`;
  if (str(p.name)) return str(p.name)!;
  return '*';
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
  const done = (why: string): CloudTrailMapping => (events.length ? { mapped: { events, identities, recordKey: key, time, source: CLOUDTRAIL_SOURCE }, sessions } : { mapped: noEvents(why), sessions });
  const caller = callerOf(e.userIdentity);
  const action = awsAction(e);
  const resource = awsResource(e);
  const sourceIp = e.sourceIPAddress && !e.sourceIPAddress.endsWith('.amazonaws.com') ? { sourceIp: clip(e.sourceIPAddress, 64) } : {};

  let sessionId: string | undefined;
  if (caller.kind === 'identity') {
    identities.push(caller.identity);
    sessionId = caller.sessionId;
    if (sessionId && options.implicitSessions && !memory.sessionKnown(sessionId)) {
      const started = normalizeTime(caller.sessionStartedAt) ?? time;
      events.push(identityEventInput('session.started', caller.identity.id, { sessionId, system: 'aws-sts', expiresAt: new Date(Date.parse(started) + options.defaultSessionTtlMs).toISOString() }, stamp('session')));
      sessions.push(sessionId);
    }
  }
  const withSession = sessionId ? { sessionId } : {};

  // Sign-in to the console as a non-human identity is a person using it.
  if (e.eventSource === 'signin.amazonaws.com' && (e.eventName === 'ConsoleLogin' || e.eventType === 'AwsConsoleSignIn')) {
    if (caller.kind !== 'identity') return done(`console sign-in by ${caller.why}`);
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
    return done('');
  }

  // Denials (and expired credentials): out-of-scope evidence of the caller.
  if (e.errorCode && DENIAL.test(e.errorCode)) {
    if (caller.kind !== 'identity') return done(`${e.errorCode} for ${caller.why}`);
    const reason = clip(e.errorMessage ? `${e.errorCode}: ${e.errorMessage}` : e.errorCode, 1024);
    events.push(identityEventInput('enforcement.decisions', caller.identity.id, { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action, resource, ...withSession, allowed: 0, denied: 1, reason }] }, stamp('denied')));
    return done('');
  }

  // AssumeRole*: a session of the target role. Both accounts log a cross-account call with the same
  // sharedEventID, so the session event takes its id from it and the two copies are one event.
  if (e.eventSource === 'sts.amazonaws.com' && ASSUME.has(e.eventName) && !e.errorCode) {
    const p = e.requestParameters ?? {};
    const target = parseRoleArn(str(p.roleArn));
    if (!target) return done(`${e.eventName} without a role ARN`);
    if (caller.kind === 'identity') events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource: target.arn }, stamp('activity')));
    if (e.eventName === 'AssumeRoleWithSAML' || isSsoRole(target.name)) return done(`${target.name} assumed through ${e.eventName === 'AssumeRoleWithSAML' ? 'SAML' : 'IAM Identity Center'} (a person's session)`);
    const res = e.responseElements ?? {};
    const credentials = (res.credentials ?? {}) as Record<string, unknown>;
    const assumed = (res.assumedRoleUser ?? {}) as Record<string, unknown>;
    const roleSession = str(p.roleSessionName) ?? 'session';
    const targetSession = str(assumed.arn) ?? `arn:aws:sts::${target.account}:assumed-role/${target.name}/${roleSession}`;
    const duration = typeof p.durationSeconds === 'number' && p.durationSeconds > 0 ? p.durationSeconds * 1000 : 3_600_000;
    const expiresAt = parseAwsExpiration(credentials.expiration) ?? new Date(Date.parse(time) + duration).toISOString();
    const accessKeyId = str(credentials.accessKeyId);
    const identity = roleIdentity(target.account, target.name, {
      'aws.role_arn': target.arn,
      'aws.web_identity_provider': str(res.provider) ?? (e.userIdentity.type === 'WebIdentityUser' ? e.userIdentity.identityProvider : undefined),
      'aws.web_identity_subject': str(res.subjectFromWebIdentityToken),
      'aws.web_identity_audience': str(res.audience),
      'aws.source_identity': str(res.sourceIdentity) ?? str(p.sourceIdentity),
      'aws.assumed_by': e.userIdentity.type === 'AWSService' ? e.userIdentity.invokedBy : undefined,
    });
    identities.push(identity);
    events.push(
      identityEventInput(
        'session.started',
        identity.id,
        { sessionId: targetSession, system: 'aws-sts', expiresAt, ...(accessKeyId && ACCESS_KEY.test(accessKeyId) ? { tokenId: accessKeyId } : {}) },
        stamp('session', `aws:${e.sharedEventID ?? e.eventID}`),
      ),
    );
    sessions.push(targetSession);
    return done('');
  }

  if (caller.kind !== 'identity') return done(caller.why);
  const secret = secretAccess(e);
  if (secret && !e.errorCode) {
    events.push(identityEventInput('secret.accessed', caller.identity.id, { ...secret, ...withSession }, stamp('access')));
    return done('');
  }
  events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource }, stamp('activity')));
  return done('');
}

export const cloudTrailUnsupported = (why: string): ReturnType<typeof deadLetter> => deadLetter('unsupported', why);
