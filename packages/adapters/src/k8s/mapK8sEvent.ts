import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { clip, identityEventInput, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents, type AdapterContext } from '../common/MappingResult.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { canonicalJson } from '../common/canonicalJson.js';
import { sha256Hex } from '../common/sha256.js';
import { principalOf, serviceAccountIdentity } from './k8sIdentity.js';
import { PodObject, RbacBinding, RbacRole, TokenRequestObject, type K8sAuditEvent, type K8sObjectRef, type PolicyRule } from './K8sAuditEvent.js';
import { bindingPermissions } from './rbacPermissions.js';

export interface K8sOptions extends CommonAdapterOptions {
  /** `enforcerId` of the out-of-scope evidence (403s). Default `kube-apiserver`. */
  readonly enforcerId: string;
  /** Usernames that are machines although not service accounts (e.g. an IAM role mapped by EKS). Default none. */
  readonly serviceUsers: readonly string[];
  /** Lifetime of a TokenRequest token whose expiry the event does not show (ms). Default 1 h, the API default. */
  readonly defaultTokenTtlMs: number;
  /** Verbs reported as `telemetry.activity` for non-human callers. Default every verb but `watch`. */
  readonly activityVerbs: readonly string[] | 'all-but-watch';
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
}

export type K8sMemoryUpdate =
  | { readonly kind: 'role'; readonly roleKey: string; readonly rules: readonly PolicyRule[] }
  | { readonly kind: 'role-deleted'; readonly roleKey: string }
  | { readonly kind: 'binding'; readonly binding: BindingMemory }
  | { readonly kind: 'binding-deleted'; readonly grantId: string }
  | { readonly kind: 'pod'; readonly namespace: string; readonly pod: string; readonly identityId: string };

export interface K8sMapping {
  readonly mapped: Mapped;
  readonly updates: readonly K8sMemoryUpdate[];
}

export const K8S_SOURCE = 'livescope-adapter/k8s';
const WRITE_VERBS = new Set(['create', 'update', 'patch']);

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

function bindingSubjects(binding: RbacBinding, serviceUsers: readonly string[]): IdentityDescription[] {
  const out: IdentityDescription[] = [];
  for (const s of binding.subjects ?? []) {
    if (s.kind === 'ServiceAccount') {
      const ns = s.namespace ?? binding.metadata?.namespace;
      if (ns) out.push(serviceAccountIdentity(ns, s.name));
    } else if (s.kind === 'User') {
      const p = principalOf(s.name, serviceUsers);
      if (p.kind === 'identity') out.push(p.identity);
    }
  }
  return out;
}

/**
 * Maps one Kubernetes audit event. Pure: reads the memory view (RBAC roles and bindings seen before,
 * pods and their service accounts) and returns the events and the memory updates.
 */
export function mapK8sEvent(e: K8sAuditEvent, memory: K8sMemoryView, options: K8sOptions, ctx: AdapterContext): K8sMapping {
  if (e.stage === 'RequestReceived') return { mapped: noEvents('stage RequestReceived: the outcome follows in a later stage'), updates: [] };
  if (e.stage === 'Panic') return { mapped: noEvents('stage Panic: the request failed inside the API server'), updates: [] };
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
  const actorUser = e.impersonatedUser?.username ?? e.user.username;
  const actor = principalOf(actorUser, options.serviceUsers);
  const path = k8sResourcePath(ref, e.requestURI);
  const events: LivescopeEventInput[] = [];
  const identities: IdentityDescription[] = [];
  const updates: K8sMemoryUpdate[] = [];
  const created: string[] = [];
  const done = (why: string): K8sMapping => (events.length ? { mapped: { events, identities, recordKey: key, time, source: K8S_SOURCE, created }, updates } : { mapped: noEvents(why), updates });
  const activity = (suffix = 'activity'): void => {
    if (actor.kind !== 'identity') return;
    const verbs = options.activityVerbs;
    if (verbs === 'all-but-watch' ? verb === 'watch' : !verbs.includes(verb)) return;
    identities.push(actor.identity);
    events.push(identityEventInput('telemetry.activity', actor.identity.id, { action: `k8s:${verb}`, resource: path }, stamp(suffix)));
  };

  if (denied) {
    if (actor.kind !== 'identity') return done(`denied request by a non-livescope principal: ${actor.why}`);
    const reason = e.responseStatus?.message ?? e.annotations?.['authorization.k8s.io/reason'] ?? 'forbidden';
    identities.push(actor.identity);
    events.push(
      identityEventInput(
        'enforcement.decisions',
        actor.identity.id,
        { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action: `k8s:${verb}`, resource: path, allowed: 0, denied: 1, reason: clip(reason, 1024) }] },
        stamp('denied'),
      ),
    );
    return done('');
  }
  if (!succeeded) return done(`request failed with code ${code}: no permission was used`);

  // Service-account tokens (TokenRequest): a session of the service account the token is for.
  if (resource === 'serviceaccounts' && sub === 'token' && verb === 'create' && ref?.namespace && ref.name) {
    const sa = serviceAccountIdentity(ref.namespace, ref.name);
    const req = TokenRequestObject.safeParse(e.requestObject);
    const res = TokenRequestObject.safeParse(e.responseObject);
    const expiry =
      normalizeTime(res.success ? res.data.status?.expirationTimestamp : undefined) ??
      new Date(Date.parse(time) + (req.success && req.data.spec?.expirationSeconds ? req.data.spec.expirationSeconds * 1000 : options.defaultTokenTtlMs)).toISOString();
    identities.push(sa);
    events.push(identityEventInput('session.started', sa.id, { sessionId: `${key}/token`, system: 'kubernetes', expiresAt: expiry }, stamp('session')));
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
      return done('');
    }
  }

  // Secrets.
  if (resource === 'secrets' && !sub) {
    const operation = verb === 'get' ? 'read' : verb === 'list' || verb === 'watch' ? 'list' : verb === 'delete' || verb === 'deletecollection' ? 'delete' : WRITE_VERBS.has(verb) ? 'write' : undefined;
    if (!operation) return done(`secrets verb ${verb} is not a secret access`);
    if (actor.kind !== 'identity') return done(`secret ${operation} by a non-livescope principal: ${actor.why}`);
    identities.push(actor.identity);
    const secretPath = `namespaces/${ref?.namespace ?? '*'}/secrets/${ref?.name ?? '*'}`;
    events.push(identityEventInput('secret.accessed', actor.identity.id, { secretPath, operation, system: 'kubernetes' }, stamp('access')));
    return done('');
  }

  // Interactive access to a pod: a person holding the pod's service-account credentials.
  if (resource === 'pods' && (sub === 'exec' || sub === 'attach') && ref?.namespace && ref.name) {
    if (actor.kind === 'identity') {
      activity();
      return done('');
    }
    const saId = memory.podServiceAccount(ref.namespace, ref.name);
    if (!saId) return done(`${sub} into pod ${ref.namespace}/${ref.name} by ${actorUser ?? 'unknown'}; the pod's service account was not seen in this input`);
    events.push(
      identityEventInput(
        'telemetry.human-use-detected',
        saId,
        { evidence: clip(`${actorUser ?? 'unknown user'} ran ${sub} in pod ${ref.namespace}/${ref.name}, which holds this service account's token`, 1024), ...(e.sourceIPs?.[0] ? { sourceIp: clip(e.sourceIPs[0], 64) } : {}) },
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
    return done(actor.kind === 'skip' ? actor.why : '');
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
    return done('role definition recorded (its rules become permissions when a binding grants it)');
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
      return done(previous ? 'binding had no service-account subjects' : `binding ${grantId} deleted; its subjects were not seen in this input`);
    }
    if (WRITE_VERBS.has(verb)) {
      const parsed = RbacBinding.safeParse(e.responseObject ?? e.requestObject);
      if (!parsed.success) {
        activity();
        return done('binding change without its object (audit level Metadata): subjects unknown');
      }
      const binding = parsed.data;
      const namespace = resource === 'rolebindings' ? (binding.metadata?.namespace ?? ref.namespace) : undefined;
      const roleKey = roleKeyOf(binding.roleRef.kind, binding.roleRef.name, namespace);
      const subjects = bindingSubjects(binding, options.serviceUsers);
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
      return done(`binding ${grantId} has no service-account subjects`);
    }
  }

  activity();
  return done(actor.kind === 'skip' ? actor.why : `verb ${verb} is not reported as activity`);
}

export const unsupportedKind = (kind: unknown): ReturnType<typeof deadLetter> => deadLetter('unsupported', `kubernetes audit object of kind ${JSON.stringify(kind)} is not supported (expected Event or EventList)`);
