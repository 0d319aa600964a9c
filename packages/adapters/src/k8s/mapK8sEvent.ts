import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { clip, identityEventInput, idPart, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents, type AdapterContext } from '../common/MappingResult.js';
import { isIp } from '../common/network.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { personSkipped } from '../common/personSkipped.js';
import { canonicalJson } from '../common/canonicalJson.js';
import { sha256Hex } from '../common/sha256.js';
import { principalOf, serviceAccountIdentity, type K8sPrincipal, type K8sPrincipalRules } from './k8sIdentity.js';
import { PodObject, RbacBinding, RbacRole, TokenRequestObject, type K8sAuditEvent, type K8sObjectRef, type PolicyRule } from './K8sAuditEvent.js';
import { bindingPermissions } from './rbacPermissions.js';

export interface K8sOptions extends CommonAdapterOptions, K8sPrincipalRules {
  /** `enforcerId` of the out-of-scope evidence (403s). Default `kube-apiserver`. */
  readonly enforcerId: string;
  /** Lifetime of a TokenRequest token whose expiry the event does not show (ms). Default 1 h, the API default. */
  readonly defaultTokenTtlMs: number;
  /** Verbs reported as `telemetry.activity` for non-human callers. Default every verb but `watch`. */
  readonly activityVerbs: readonly string[] | 'all-but-watch';
  /** Emit `session.started` for a service-account token first seen in use (by its credential id). Default true. */
  readonly implicitSessions: boolean;
}

export interface BindingMemory {
  readonly grantId: string;
  readonly roleKey: string;
  readonly roleName: string;
  readonly namespace?: string;
  readonly subjects: readonly IdentityDescription[];
}

export interface K8sMemoryView {
  roleRules(roleKey: string): readonly PolicyRule[] | undefined;
  binding(grantId: string): BindingMemory | undefined;
  bindingsOfRole(roleKey: string): readonly BindingMemory[];
  podServiceAccount(namespace: string, pod: string): string | undefined;
  /** Whether a session for this token credential id was already started in this input. */
  credentialKnown(credentialId: string): boolean;
}

export type K8sMemoryUpdate =
  | { readonly kind: 'role'; readonly roleKey: string; readonly rules: readonly PolicyRule[] }
  | { readonly kind: 'role-deleted'; readonly roleKey: string }
  | { readonly kind: 'binding'; readonly binding: BindingMemory }
  | { readonly kind: 'binding-deleted'; readonly grantId: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly pod: string; readonly identityId: string }
  | { readonly kind: 'credential'; readonly credentialId: string };

export interface K8sMapping {
  readonly mapped: Mapped;
  readonly updates: readonly K8sMemoryUpdate[];
}

export const K8S_SOURCE = 'livescope-adapter/k8s';
const WRITE_VERBS = new Set(['create', 'update', 'patch']);
/** Audit annotation of a TokenRequest naming the issued token (Kubernetes 1.29+, e.g. `JTI=<uuid>`). */
export const ISSUED_CREDENTIAL_ID = 'authentication.kubernetes.io/issued-credential-id';
/** `user.extra` key naming the token a request was authenticated with (Kubernetes 1.29+). */
export const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
const POD_NAME = 'authentication.kubernetes.io/pod-name';

/** `[namespaces/<ns>/]<resource>[/<name>][/<subresource>]`, or the request path of a non-resource request. */
export function k8sResourcePath(ref: K8sObjectRef | null | undefined, requestURI: string | undefined): string {
  if (!ref?.resource) return (requestURI ?? '/').split('?')[0]! || '/';
  return [ref.namespace ? `namespaces/${ref.namespace}` : undefined, ref.resource, ref.name, ref.subresource].filter((p) => p !== undefined && p !== '').join('/');
}

const roleKeyOf = (kind: string, name: string, namespace: string | undefined): string => (kind === 'ClusterRole' || !namespace ? `clusterroles/${name}` : `namespaces/${namespace}/roles/${name}`);

function eventTime(e: K8sAuditEvent, ctx: AdapterContext): string {
  return normalizeTime(e.stageTimestamp) ?? normalizeTime(e.requestReceivedTimestamp) ?? normalizeTime(e.timestamp) ?? normalizeTime(e.metadata?.creationTimestamp) ?? ctx.receivedAt;
}

/** Stable key of an event: its auditID, or a hash of its canonical JSON when it has none (cut-down samples). */
export function k8sEventKey(e: K8sAuditEvent): string {
  return e.auditID ? `k8s:${e.auditID}` : `k8s:sha256-${sha256Hex(canonicalJson(e)).slice(0, 32)}`;
}

/** The session of a service-account token, by the credential id Kubernetes gives it (`JTI=<uuid>`). */
export const credentialSessionId = (credentialId: string): string => `k8s:credential/${idPart(credentialId)}`;

const firstString = (v: unknown): string | undefined => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : typeof v === 'string' ? v : undefined);

function bindingSubjects(binding: RbacBinding, rules: K8sPrincipalRules): IdentityDescription[] {
  const out: IdentityDescription[] = [];
  for (const s of binding.subjects ?? []) {
    if (s.kind === 'ServiceAccount') {
      const ns = s.namespace ?? binding.metadata?.namespace;
      if (ns) out.push(serviceAccountIdentity(ns, s.name));
    } else if (s.kind === 'User') {
      const p = principalOf({ username: s.name }, rules, 'subjects[].name');
      if (p.kind === 'identity') out.push(p.identity);
    }
  }
  return out;
}

/**
 * Maps one Kubernetes audit event. Pure: reads the memory view (RBAC roles and bindings seen before,
 * pods and their service accounts, token credentials already seen) and returns the events and the
 * memory updates.
 */
export function mapK8sEvent(e: K8sAuditEvent, memory: K8sMemoryView, options: K8sOptions, ctx: AdapterContext): K8sMapping {
  if (e.stage === 'RequestReceived') return { mapped: noEvents('not-final', 'stage', 'stage RequestReceived: the outcome follows in a later stage'), updates: [] };
  if (e.stage === 'Panic') return { mapped: noEvents('failed', 'stage', 'stage Panic: the request failed inside the API server'), updates: [] };
  const key = k8sEventKey(e);
  const time = eventTime(e, ctx);
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: K8S_SOURCE });
  const ref = e.objectRef ?? undefined;
  const verb = e.verb;
  const resource = ref?.resource;
  const sub = ref?.subresource;
  const code = e.responseStatus?.code;
  const decision = e.annotations?.['authorization.k8s.io/decision'];
  const denied = code === 403 || decision === 'forbid';
  const succeeded = !denied && (code === undefined || (code >= 200 && code < 300) || code === 101);
  const actorUser = e.impersonatedUser?.username ? e.impersonatedUser : e.user;
  const actorField = e.impersonatedUser?.username ? 'impersonatedUser.username' : 'user.username';
  const actor: K8sPrincipal = principalOf(actorUser, options, actorField);
  const path = k8sResourcePath(ref, e.requestURI);
  const sourceIp = e.sourceIPs?.find((ip) => isIp(ip));
  const events: LivescopeEventInput[] = [];
  const identities: IdentityDescription[] = [];
  const updates: K8sMemoryUpdate[] = [];
  const created: string[] = [];
  const uses: CredentialUse[] = [];

  // The token the request was authenticated with: its credential id (1.29+), or for EKS the IAM access key.
  const extra = actorUser.extra ?? undefined;
  const credentialId = firstString(extra?.[CREDENTIAL_ID]) ?? (firstString(extra?.accessKeyId) ? `aws-access-key:${firstString(extra?.accessKeyId)}` : undefined);
  const tokenCredential = credentialId?.startsWith('JTI=') ? credentialId : undefined;
  const podName = firstString(extra?.[POD_NAME]);
  let sessionId: string | undefined;
  if (actor.kind === 'identity' && tokenCredential) {
    sessionId = credentialSessionId(tokenCredential);
    if (options.implicitSessions && !memory.credentialKnown(tokenCredential)) {
      identities.push(actor.identity);
      events.push(identityEventInput('session.started', actor.identity.id, { sessionId, system: 'kubernetes', tokenId: idPart(tokenCredential), expiresAt: new Date(Date.parse(time) + options.defaultTokenTtlMs).toISOString() }, stamp('credential-session')));
      updates.push({ kind: 'credential', credentialId: tokenCredential });
    }
  } else if (actor.kind === 'identity' && actor.identity.id.startsWith('aws:') && firstString(extra?.sessionName)) {
    const arn = firstString(extra?.arn);
    if (arn?.includes(':assumed-role/')) sessionId = arn;
  }
  if (actor.kind === 'identity' && credentialId && sourceIp) {
    uses.push({ identityId: actor.identity.id, credentialId: idPart(credentialId), ...(sessionId ? { sessionId } : {}), sourceIp, time, recordKey: key, action: `k8s:${verb} ${path}`, ...(podName ? { boundTo: { platform: 'kubernetes', machine: `pod ${podName}` } } : {}) });
  }
  const withSession = sessionId ? { sessionId } : {};

  const human = (actorName: string, message: string, field = actor.kind === 'skip' ? actorField : actor.field) => personSkipped(options.humans, message, { source: 'k8s', actor: actorName, actorField: field, time, action: `k8s:${verb}`, resource: path, ...(sourceIp ? { sourceIp } : {}), outcome: denied ? 'denied' : succeeded ? 'success' : 'failure' });
  const notIdentity = (what: string): Mapped => (actor.kind === 'human' ? human(actor.actor, `${what}: ${actor.why}`) : actor.kind === 'skip' ? noEvents('unattributed', actor.field, `${what}: ${actor.why}`) : noEvents('no-effect', 'verb', what));
  const done = (why: Mapped | string): K8sMapping =>
    events.length ? { mapped: { events, identities, recordKey: key, time, source: K8S_SOURCE, created, ...(uses.length ? { uses } : {}) }, updates } : { mapped: typeof why === 'string' ? noEvents('no-effect', 'objectRef.resource', why) : why, updates };
  const activity = (suffix = 'activity'): void => {
    if (actor.kind !== 'identity') return;
    const verbs = options.activityVerbs;
    if (verbs === 'all-but-watch' ? verb === 'watch' : !verbs.includes(verb)) return;
    identities.push(actor.identity);
    events.push(identityEventInput('telemetry.activity', actor.identity.id, { action: `k8s:${verb}`, resource: path }, stamp(suffix)));
  };

  if (denied) {
    if (actor.kind !== 'identity') return done(notIdentity('denied request'));
    const reason = e.responseStatus?.message ?? e.annotations?.['authorization.k8s.io/reason'] ?? 'forbidden';
    identities.push(actor.identity);
    events.push(
      identityEventInput(
        'enforcement.decisions',
        actor.identity.id,
        { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action: `k8s:${verb}`, resource: path, ...withSession, allowed: 0, denied: 1, reason: clip(reason, 1024) }] },
        stamp('denied'),
      ),
    );
    return done('');
  }
  if (!succeeded) return done(events.length ? '' : noEvents('failed', 'responseStatus.code', `responseStatus.code ${code}: the request failed, no permission was used`));

  // Service-account tokens (TokenRequest): a session of the service account the token is for. The
  // issued credential id (1.29+) names the session, so its later use (`user.extra` credential-id) joins it.
  if (resource === 'serviceaccounts' && sub === 'token' && verb === 'create' && ref?.namespace && ref.name) {
    const sa = serviceAccountIdentity(ref.namespace, ref.name);
    const req = TokenRequestObject.safeParse(e.requestObject);
    const res = TokenRequestObject.safeParse(e.responseObject);
    const issued = e.annotations?.[ISSUED_CREDENTIAL_ID];
    const bound = (res.success ? res.data.spec?.boundObjectRef : undefined) ?? (req.success ? req.data.spec?.boundObjectRef : undefined);
    const expiry =
      normalizeTime(res.success ? res.data.status?.expirationTimestamp : undefined) ??
      new Date(Date.parse(time) + (req.success && req.data.spec?.expirationSeconds ? req.data.spec.expirationSeconds * 1000 : options.defaultTokenTtlMs)).toISOString();
    identities.push(sa);
    events.push(
      identityEventInput(
        'session.started',
        sa.id,
        { sessionId: issued ? credentialSessionId(issued) : `${key}/token`, system: 'kubernetes', expiresAt: expiry, ...(issued ? { tokenId: idPart(issued) } : {}), ...(bound?.kind && bound.name ? { task: clip(`bound to ${bound.kind} ${bound.name}`, 256) } : {}) },
        stamp('session'),
      ),
    );
    if (issued) updates.push({ kind: 'credential', credentialId: issued });
    activity();
    return done('');
  }

  // Service accounts themselves: created and deleted identities.
  if (resource === 'serviceaccounts' && !sub && ref?.namespace) {
    const name = ref.name ?? (e.requestObject as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    if (typeof name === 'string' && name) {
      const sa = serviceAccountIdentity(ref.namespace, name);
      if (verb === 'create') {
        events.push(identityEventInput('identity.created', sa.id, { kind: sa.kind, name: sa.name, namespace: sa.namespace, owner: options.owner, labels: sa.labels ?? {} }, stamp('created')));
        created.push(sa.id);
      } else if (verb === 'delete') {
        events.push(identityEventInput('identity.deleted', sa.id, { reason: clip(`service account deleted by ${e.user.username ?? 'unknown'}`, 1024) }, stamp('deleted')));
        created.push(sa.id);
      }
      activity();
      return done(actor.kind === 'identity' ? `verb ${verb} on a service account changes no identity` : notIdentity(`${verb} serviceaccounts`));
    }
  }

  // Secrets.
  if (resource === 'secrets' && !sub) {
    const operation = verb === 'get' ? 'read' : verb === 'list' || verb === 'watch' ? 'list' : verb === 'delete' || verb === 'deletecollection' ? 'delete' : WRITE_VERBS.has(verb) ? 'write' : undefined;
    if (!operation) return done(noEvents('no-effect', 'verb', `verb ${verb} on secrets is not a secret access`));
    if (actor.kind !== 'identity') return done(notIdentity(`secret ${operation}`));
    identities.push(actor.identity);
    const secretPath = `namespaces/${ref?.namespace ?? '*'}/secrets/${ref?.name ?? '*'}`;
    events.push(identityEventInput('secret.accessed', actor.identity.id, { secretPath, operation, system: 'kubernetes', ...withSession }, stamp('access')));
    return done('');
  }

  // Interactive access to a pod: a person holding the pod's service-account credentials.
  if (resource === 'pods' && (sub === 'exec' || sub === 'attach') && ref?.namespace && ref.name) {
    if (actor.kind === 'identity') {
      activity();
      return done('');
    }
    const saId = memory.podServiceAccount(ref.namespace, ref.name);
    if (!saId) return done(actor.kind === 'human' ? human(actor.actor, `${actorField} ${actor.actor} ran ${sub} in pod ${ref.namespace}/${ref.name}, whose service account was not seen in this input (its creation was not logged)`) : notIdentity(`${sub} into a pod`));
    events.push(
      identityEventInput(
        'telemetry.human-use-detected',
        saId,
        { evidence: clip(`${actorUser.username ?? 'unknown user'} ran ${sub} in pod ${ref.namespace}/${ref.name}, which holds this service account's token`, 1024), ...(sourceIp ? { sourceIp: clip(sourceIp, 64) } : {}) },
        stamp('human-use'),
      ),
    );
    return done('');
  }

  // Pods: remember which service account a pod runs as (for exec attribution).
  if (resource === 'pods' && !sub && verb === 'create') {
    const pod = PodObject.safeParse(e.responseObject);
    const ns = pod.success ? (pod.data.metadata?.namespace ?? ref?.namespace) : undefined;
    const name = pod.success ? pod.data.metadata?.name : undefined;
    if (pod.success && ns && name) updates.push({ kind: 'pod', namespace: ns, pod: name, identityId: serviceAccountIdentity(ns, pod.data.spec?.serviceAccountName ?? 'default').id });
    activity();
    return done(notIdentity('pod create'));
  }

  // RBAC: roles are remembered; bindings grant and revoke entitlements of their subjects.
  if ((resource === 'roles' || resource === 'clusterroles') && !sub) {
    const roleKey = roleKeyOf(resource === 'roles' ? 'Role' : 'ClusterRole', ref?.name ?? '', ref?.namespace);
    if (verb === 'delete') {
      updates.push({ kind: 'role-deleted', roleKey });
    } else if (WRITE_VERBS.has(verb)) {
      const role = RbacRole.safeParse(e.responseObject ?? e.requestObject);
      if (role.success && role.data.rules) {
        const name = role.data.metadata?.name ?? ref?.name;
        if (name) {
          const k = roleKeyOf(role.data.kind, name, role.data.metadata?.namespace ?? ref?.namespace);
          updates.push({ kind: 'role', roleKey: k, rules: role.data.rules });
          // Bindings already seen to this role now grant its new rules.
          for (const b of memory.bindingsOfRole(k)) {
            const permissions = bindingPermissions(k, b.roleName, role.data.rules, b.namespace);
            for (const s of b.subjects) {
              identities.push(s);
              events.push(identityEventInput('entitlement.granted', s.id, { grantId: b.grantId, role: b.roleName, permissions }, stamp(`grant-${sha256Hex(`${b.grantId}|${s.id}`).slice(0, 12)}`)));
            }
          }
        }
      }
    }
    activity();
    return done(actor.kind === 'identity' ? noEvents('no-effect', 'objectRef.resource', `${resource} ${verb}: role definitions are recorded; their rules become permissions when a binding grants them`) : notIdentity(`${resource} ${verb}`));
  }
  if ((resource === 'rolebindings' || resource === 'clusterrolebindings') && !sub && ref?.name) {
    const grantId = resource === 'rolebindings' ? `k8s:rolebinding/${ref.namespace ?? 'default'}/${ref.name}` : `k8s:clusterrolebinding/${ref.name}`;
    const previous = memory.binding(grantId);
    if (verb === 'delete') {
      for (const s of previous?.subjects ?? []) {
        identities.push(s);
        events.push(identityEventInput('entitlement.revoked', s.id, { grantId }, stamp(`revoke-${sha256Hex(s.id).slice(0, 12)}`)));
      }
      updates.push({ kind: 'binding-deleted', grantId });
      activity();
      return done(previous ? noEvents('no-effect', 'subjects', `binding ${grantId} had no service-account subjects`) : noEvents('incomplete', 'objectRef.name', `binding ${grantId} deleted; its subjects were not seen in this input`));
    }
    if (WRITE_VERBS.has(verb)) {
      const parsed = RbacBinding.safeParse(e.responseObject ?? e.requestObject);
      if (!parsed.success) {
        activity();
        return done(noEvents('incomplete', 'requestObject', `binding ${grantId} changed without its object (audit level ${e.level ?? 'Metadata'}): subjects unknown`));
      }
      const binding = parsed.data;
      const namespace = resource === 'rolebindings' ? (binding.metadata?.namespace ?? ref.namespace) : undefined;
      const roleKey = roleKeyOf(binding.roleRef.kind, binding.roleRef.name, namespace);
      const subjects = bindingSubjects(binding, options);
      const permissions = bindingPermissions(roleKey, binding.roleRef.name, memory.roleRules(roleKey), namespace);
      for (const s of subjects) {
        identities.push(s);
        events.push(identityEventInput('entitlement.granted', s.id, { grantId, role: binding.roleRef.name, permissions }, stamp(`grant-${sha256Hex(s.id).slice(0, 12)}`)));
      }
      // Subjects removed by an update lose the grant.
      for (const s of previous?.subjects ?? []) {
        if (subjects.some((x) => x.id === s.id)) continue;
        identities.push(s);
        events.push(identityEventInput('entitlement.revoked', s.id, { grantId }, stamp(`revoke-${sha256Hex(s.id).slice(0, 12)}`)));
      }
      updates.push({ kind: 'binding', binding: { grantId, roleKey, roleName: binding.roleRef.name, ...(namespace ? { namespace } : {}), subjects } });
      activity();
      return done(noEvents('no-effect', 'subjects', `binding ${grantId} has no service-account or machine-user subjects (groups and people are not identities)`));
    }
  }

  activity();
  return done(actor.kind === 'identity' ? noEvents('no-effect', 'verb', `verb ${verb} is not reported as activity (activityVerbs)`) : notIdentity(`${verb} ${path}`));
}

export const unsupportedKind = (kind: unknown): ReturnType<typeof deadLetter> => deadLetter('unsupported', `kubernetes audit object of kind ${JSON.stringify(kind)} is not supported (expected Event or EventList)`);
