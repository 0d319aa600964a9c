import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { canonicalJson } from '../common/canonicalJson.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput, idPart, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import { array, isObject, object, path, text, type Json } from '../common/looseRead.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents, type AdapterContext } from '../common/MappingResult.js';
import { isIp } from '../common/network.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { personSkipped } from '../common/personSkipped.js';
import { sha256Hex } from '../common/sha256.js';
import { federatedIdentity, gcpCaller, serviceAccountOf, type GcpPrincipal } from './gcpPrincipal.js';

export interface GcpAuditOptions extends CommonAdapterOptions {
  /** `enforcerId` of permission denials. Default `gcp-iam`. */
  readonly enforcerId: string;
  /** Lifetime of a short-lived credential whose expiry the entry does not show (ms). Default 1 h (Google's default). */
  readonly defaultTokenTtlMs: number;
}

export const GCP_SOURCE = 'livescope-adapter/gcp-audit';
/** Methods of the IAM Service Account Credentials API: each mints a credential of the target service account. */
const CREDENTIAL_METHODS = new Set(['GenerateAccessToken', 'GenerateIdToken', 'SignJwt', 'SignBlob']);
const PERMISSION_DENIED = 7;
/** Non-IP `callerIp` values Google writes for its own networks. */
const INTERNAL_CALLERS = new Set(['private', 'gce-internal-ip']);

const method = (m: string): string => m.split('.').pop()!;

/** The service account a credential method or a service-account operation targets. */
function targetServiceAccount(p: Json, entry: Json): string | undefined {
  const fromLabels = text(path(entry, 'resource', 'labels'), 'email_id');
  if (fromLabels && fromLabels.includes('@')) return fromLabels;
  for (const candidate of [text(object(p, 'request'), 'name'), text(p, 'resourceName')]) {
    const m = /serviceAccounts\/([^/]+@[^/]+)/.exec(candidate ?? '');
    if (m) return m[1];
  }
  return undefined;
}

function secretOperation(m: string): 'read' | 'write' | 'list' | 'delete' | undefined {
  switch (method(m)) {
    case 'AccessSecretVersion':
      return 'read';
    case 'ListSecrets':
    case 'ListSecretVersions':
      return 'list';
    case 'AddSecretVersion':
    case 'CreateSecret':
    case 'UpdateSecret':
      return 'write';
    case 'DeleteSecret':
    case 'DestroySecretVersion':
      return 'delete';
    default:
      return undefined;
  }
}

/**
 * Maps one Cloud Audit Logs entry (a LogEntry whose `protoPayload` is an AuditLog). Documented field
 * by field in docs/adapters.md: service accounts, impersonation through the Service Account
 * Credentials API (`GenerateAccessToken`, `SignJwt`…), workload identity federation (STS
 * `ExchangeToken`, `principal://…/subject/…`), denied calls, Secret Manager and service-account
 * lifecycle. Pure.
 */
export function mapGcpAuditEntry(entry: Json, options: GcpAuditOptions, ctx: AdapterContext): Mapped {
  const p = object(entry, 'protoPayload');
  if (!p) return deadLetter('schema-invalid', 'not a Cloud Audit Logs entry: protoPayload is missing');
  const methodName = text(p, 'methodName');
  if (!methodName) return deadLetter('schema-invalid', 'not a Cloud Audit Logs entry: protoPayload.methodName is missing');
  // Documentation excerpts and some exports leave serviceName out: the method names of the
  // credential and token-exchange APIs say which service they belong to.
  const serviceName = text(p, 'serviceName') ?? text(path(entry, 'resource', 'labels'), 'service') ?? (methodName.includes('SecurityTokenService') ? 'sts.googleapis.com' : CREDENTIAL_METHODS.has(methodName) || methodName.includes('IAMCredentials') ? 'iamcredentials.googleapis.com' : 'unknown');
  const time = normalizeTime(text(entry, 'timestamp')) ?? normalizeTime(text(path(p, 'requestMetadata', 'requestAttributes'), 'time')) ?? normalizeTime(text(entry, 'receiveTimestamp')) ?? ctx.receivedAt;
  const insertId = text(entry, 'insertId');
  const key = insertId ? `gcp:${idPart(insertId)}${text(entry, 'logName') ? `-${sha256Hex(text(entry, 'logName')!).slice(0, 8)}` : ''}` : `gcp:sha256-${sha256Hex(canonicalJson(entry)).slice(0, 32)}`;
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: GCP_SOURCE });
  const project = text(path(entry, 'resource', 'labels'), 'project_id') ?? /^projects\/([^/]+)\//.exec(text(entry, 'logName') ?? '')?.[1];
  const auth = object(p, 'authenticationInfo') ?? {};
  const caller: GcpPrincipal = gcpCaller({ principalEmail: text(auth, 'principalEmail'), principalSubject: text(auth, 'principalSubject') }, project);
  const authz = array(p, 'authorizationInfo').filter(isObject);
  const permission = text(authz[0], 'permission');
  const resource = clip(text(authz[0], 'resource') ?? text(p, 'resourceName') ?? `projects/${project ?? '-'}`, 512);
  const service = serviceName !== 'unknown' ? serviceName.split('.')[0]! : (/^google\.([a-z0-9]+)\./.exec(methodName)?.[1] ?? 'gcp');
  // `google.pubsub.v1.Publisher.CreateTopic` → `CreateTopic`; `v1.compute.instances.list` is kept whole.
  const shortMethod = methodName.startsWith('google.') ? method(methodName) : methodName;
  const action = clip((permission ?? `${service}:${shortMethod}`).replace(/[^A-Za-z0-9._:/*-]/g, '-'), 128);
  const statusCode = Number(text(object(p, 'status'), 'code') ?? 0);
  const denied = statusCode === PERMISSION_DENIED || authz.some((a) => a.granted === false);
  const failed = !denied && statusCode !== 0;
  const callerIp = text(object(p, 'requestMetadata'), 'callerIp');
  const ip = callerIp && !INTERNAL_CALLERS.has(callerIp) && isIp(callerIp) ? callerIp : undefined;
  const events: LivescopeEventInput[] = [];
  const identities: IdentityDescription[] = [];
  const uses: CredentialUse[] = [];
  const created: string[] = [];
  const done = (why: Mapped): Mapped => (events.length ? { events, identities, recordKey: key, time, source: GCP_SOURCE, created, ...(uses.length ? { uses } : {}) } : why);
  const human = (actor: string, field: string, message: string): Mapped =>
    personSkipped(options.humans, message, { source: 'gcp-audit', actor, actorField: field, time, action, resource, ...(ip ? { sourceIp: ip } : {}), outcome: denied ? 'denied' : failed ? 'failure' : 'success' });
  const notIdentity = (what: string): Mapped => (caller.kind === 'human' ? human(caller.actor, caller.field, `${what}: ${caller.why}`) : caller.kind === 'skip' ? noEvents('unattributed', caller.field, `${what}: ${caller.why}`) : noEvents('no-effect', 'protoPayload.methodName', what));

  if (caller.kind === 'identity') {
    identities.push(caller.identity);
    const keyName = text(auth, 'serviceAccountKeyName');
    const keyId = keyName ? /\/keys\/([^/]+)$/.exec(keyName)?.[1] : undefined;
    if (keyId && ip) uses.push({ identityId: caller.identity.id, credentialId: `gcp-sa-key:${idPart(keyId)}`, sourceIp: ip, time, recordKey: key, action });
  }

  if (denied) {
    if (caller.kind !== 'identity') return done(notIdentity(`${action} denied`));
    const reason = text(object(p, 'status'), 'message') ?? `permission ${permission ?? action} not granted`;
    events.push(identityEventInput('enforcement.decisions', caller.identity.id, { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action, resource, allowed: 0, denied: 1, reason: clip(reason, 1024) }] }, stamp('denied')));
    return done(noEvents('no-effect', 'protoPayload.status.code', 'denied'));
  }
  if (failed) return done(caller.kind === 'identity' ? noEvents('failed', 'protoPayload.status.code', `protoPayload.status.code ${statusCode} (${text(object(p, 'status'), 'message') ?? 'error'}): no permission was used`) : notIdentity(`failed ${action}`));

  // Impersonation: the Service Account Credentials API mints a credential of the target service
  // account — a session of that account, held by the caller.
  if (serviceName === 'iamcredentials.googleapis.com' && CREDENTIAL_METHODS.has(method(methodName))) {
    const targetEmail = targetServiceAccount(p, entry);
    if (!targetEmail) return done(noEvents('incomplete', 'resource.labels.email_id', `${method(methodName)} without the target service account's email (resource.labels.email_id, protoPayload.request.name)`));
    const target = serviceAccountOf(targetEmail, project);
    const response = object(p, 'response');
    const lifetime = /^(\d+)s$/.exec(text(object(p, 'request'), 'lifetime') ?? '')?.[1];
    const expiresAt = normalizeTime(text(response, 'expireTime')) ?? new Date(Date.parse(time) + (lifetime ? Number(lifetime) * 1000 : options.defaultTokenTtlMs)).toISOString();
    const sessionId = `gcp:credential/${key.slice(4)}`;
    const chain = array(path(p, 'metadata'), 'identityDelegationChain').filter((x): x is string => typeof x === 'string');
    identities.push(target);
    const holder = caller.kind === 'identity' ? caller.identity.id : caller.kind === 'human' ? caller.actor : 'an unnamed caller';
    events.push(identityEventInput('session.started', target.id, { sessionId, system: 'gcp-iam', expiresAt, task: clip(`${method(methodName)} by ${holder}`, 256) }, stamp('session')));
    if (caller.kind === 'identity' && caller.identity.id !== target.id) {
      events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource: `projects/-/serviceAccounts/${targetEmail}` }, stamp('activity')));
      events.push(identityEventInput('session.started', caller.identity.id, { sessionId, system: 'gcp-iam', expiresAt, task: clip(`gcp-sa:${targetEmail}`, 256) }, stamp('holder-session')));
    } else if (caller.kind === 'human') {
      events.push(identityEventInput('telemetry.human-use-detected', target.id, { evidence: clip(`${caller.actor} called ${method(methodName)} for this service account${chain.length > 1 ? ` (delegation chain ${chain.join(' → ')})` : ''}`, 1024), ...(ip ? { sourceIp: clip(ip, 64) } : {}), sessionId }, stamp('human-use')));
    }
    return done(noEvents('no-effect', 'protoPayload.methodName', methodName));
  }

  // Workload identity federation: an IdP token exchanged for a federated token of the mapped principal.
  if (serviceName === 'sts.googleapis.com' && method(methodName) === 'ExchangeToken') {
    const mapped = text(object(p, 'metadata'), 'mapped_principal', 'mappedPrincipal');
    const principal = mapped ? federatedIdentity(mapped, 'protoPayload.metadata.mapped_principal') : caller.kind === 'identity' ? caller : undefined;
    if (!principal) return done(noEvents('incomplete', 'protoPayload.metadata.mapped_principal', 'ExchangeToken without the mapped principal (protoPayload.metadata.mapped_principal)'));
    if (principal.kind !== 'identity') return done(principal.kind === 'human' ? human(principal.actor, principal.field, principal.why) : noEvents('unattributed', principal.field, principal.why));
    identities.push(principal.identity);
    events.push(
      identityEventInput(
        'session.started',
        principal.identity.id,
        { sessionId: `gcp:federated/${key.slice(4)}`, system: 'gcp-sts', expiresAt: new Date(Date.parse(time) + options.defaultTokenTtlMs).toISOString(), task: clip(`federated through ${text(p, 'resourceName') ?? 'a workload identity pool provider'}`, 256) },
        stamp('session'),
      ),
    );
    return done(noEvents('no-effect', 'protoPayload.methodName', methodName));
  }

  if (caller.kind !== 'identity') return done(notIdentity(`${action} call`));

  // A person acting through the service account (impersonation): human use of a non-human identity.
  for (const d of array(auth, 'serviceAccountDelegationInfo').filter(isObject)) {
    const delegator = text(object(d, 'firstPartyPrincipal'), 'principalEmail');
    if (delegator && !delegator.endsWith('gserviceaccount.com')) {
      events.push(identityEventInput('telemetry.human-use-detected', caller.identity.id, { evidence: clip(`${delegator} acted as this service account (${action} on ${resource})`, 1024), ...(ip ? { sourceIp: clip(ip, 64) } : {}) }, stamp('human-use')));
      break;
    }
  }

  if (serviceName === 'secretmanager.googleapis.com') {
    const operation = secretOperation(methodName);
    if (operation) {
      events.push(identityEventInput('secret.accessed', caller.identity.id, { secretPath: resource, operation, system: 'gcp-secretmanager' }, stamp('access')));
      return done(noEvents('no-effect', 'protoPayload.methodName', methodName));
    }
  }

  if (serviceName === 'iam.googleapis.com' && (method(methodName) === 'CreateServiceAccount' || method(methodName) === 'DeleteServiceAccount')) {
    const email = text(object(p, 'response'), 'email') ?? targetServiceAccount(p, entry);
    if (email) {
      const sa = serviceAccountOf(email, project);
      if (method(methodName) === 'CreateServiceAccount') events.push(identityEventInput('identity.created', sa.id, { kind: sa.kind, name: sa.name, namespace: sa.namespace, owner: options.owner, labels: sa.labels ?? {} }, stamp('created')));
      else events.push(identityEventInput('identity.deleted', sa.id, { reason: clip(`service account deleted by ${caller.identity.id}`, 1024) }, stamp('deleted')));
      created.push(sa.id);
    }
  }
  events.push(identityEventInput('telemetry.activity', caller.identity.id, { action, resource }, stamp('activity')));
  return done(noEvents('no-effect', 'protoPayload.methodName', methodName));
}
