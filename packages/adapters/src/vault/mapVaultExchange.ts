import type { LivescopeEventInput } from '@livescope/contracts';
import type { CommonAdapterOptions } from '../common/AdapterOptions.js';
import { identityEventInput, type EventStamp } from '../common/eventBuilders.js';
import type { IdentityDescription } from '../common/IdentityAnnouncer.js';
import type { Mapped } from '../common/Mapped.js';
import { deadLetter, noEvents, type MappingResult } from '../common/MappingResult.js';
import type { CredentialUse } from '../common/CredentialUse.js';
import { isIp } from '../common/network.js';
import { personSkipped } from '../common/personSkipped.js';
import { normalizeTime } from '../common/normalizeTime.js';
import { sha256Hex } from '../common/sha256.js';
import type { VaultAuditEntry } from './VaultAuditEntry.js';
import { classifyVaultAuth, tokenExpiry } from './vaultIdentity.js';

export interface VaultOptions extends CommonAdapterOptions {
  /** `enforcerId` of the out-of-scope evidence (denied requests). Default `vault`. */
  readonly enforcerId: string;
  /** Lease lifetime assumed when neither the log nor the token bounds it (ms). Default 768 h, Vault's default max TTL. */
  readonly defaultLeaseTtlMs: number;
  /** A request waits this long (by log time, ms) for its response before it is mapped alone. Default 60 000. */
  readonly maxPendingMs: number;
  /** Emit `session.started` for a token first seen in use rather than at login. Default true. */
  readonly implicitSessions: boolean;
}

/** A request and its response, joined by `request.id`; either may be missing. */
export interface VaultExchange {
  readonly request?: VaultAuditEntry;
  readonly response?: VaultAuditEntry;
}

export interface KnownSession {
  readonly identity: IdentityDescription;
  readonly sessionId: string;
  readonly expiresAt?: string;
}

export interface LeaseOwner {
  readonly identityId: string;
  readonly sessionId?: string;
}

/** Read-only view of what earlier entries taught the reducer. */
export interface VaultMemoryView {
  sessionByToken(clientToken: string): KnownSession | undefined;
  sessionByAccessor(accessor: string): KnownSession | undefined;
  leaseOwner(leaseId: string): LeaseOwner | undefined;
  leasesWithPrefix(prefix: string): readonly (readonly [string, LeaseOwner])[];
}

export type VaultMemoryUpdate =
  | { readonly kind: 'session'; readonly accessor: string; readonly clientToken?: string; readonly session: KnownSession }
  | { readonly kind: 'session-ended'; readonly accessor: string }
  | { readonly kind: 'lease'; readonly leaseId: string; readonly owner: LeaseOwner }
  | { readonly kind: 'lease-ended'; readonly leaseId: string };

export interface VaultMapping {
  readonly mapped: Mapped;
  readonly updates: readonly VaultMemoryUpdate[];
}

export const VAULT_SOURCE = 'livescope-adapter/vault';
const HMAC = /^hmac-[a-z0-9-]+:/;
const LOGIN = /^auth\/.+\/login(\/.*)?$/;
const TOKEN_CREATE = /^auth\/token\/create(-orphan)?(\/.*)?$/;
const RENEW = /^sys\/(?:leases\/)?renew(?:\/(.+))?$/;
const REVOKE = /^sys\/(?:leases\/)?revoke(?:\/(.+))?$/;
const REVOKE_PREFIX = /^sys\/(?:leases\/)?revoke-(?:prefix|force)\/(.+)$/;
const NON_SECRET_MOUNTS = new Set(['system', 'token', 'identity']);

const errorOf = (e: VaultAuditEntry | undefined): string => (typeof e?.error === 'string' ? e.error : '');
const firstLine = (s: string): string => s.replace(/^1 error occurred:\s*\*\s*/s, '').split('\n')[0]!.trim();

/** Secret-engine paths (KV, database, PKI, TOTP, cubbyhole…), as opposed to sys/, auth/ and identity/. */
export function isSecretPath(path: string, mountType: string | undefined): boolean {
  if (/^(sys|auth|identity)\//.test(path) || path === 'sys' || path === 'auth') return false;
  return mountType === undefined || !NON_SECRET_MOUNTS.has(mountType);
}

export function secretOperation(op: string | undefined): 'read' | 'write' | 'list' | 'delete' | undefined {
  switch (op) {
    case 'read':
      return 'read';
    case 'list':
      return 'list';
    case 'create':
    case 'update':
    case 'patch':
      return 'write';
    case 'delete':
      return 'delete';
    case undefined:
    default:
      return undefined;
  }
}

/** The action name of a Vault request, in the vocabulary of provisioned permissions (`secrets:read` for secrets). */
export function vaultAction(path: string, mountType: string | undefined, op: string | undefined): string {
  const secretOp = secretOperation(op);
  if (secretOp && isSecretPath(path, mountType)) return `secrets:${secretOp}`;
  return `vault:${(op ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '-')}`;
}

function leaseIdFrom(pathSuffix: string | undefined, entry: VaultAuditEntry): string | undefined {
  if (pathSuffix) return pathSuffix;
  const fromResponse = entry.response?.secret?.lease_id;
  if (fromResponse) return fromResponse;
  const fromData = entry.request.data?.lease_id;
  return typeof fromData === 'string' && fromData.length > 0 ? fromData : undefined;
}

const minIso = (a: string, b: string | undefined): string => (b !== undefined && Date.parse(b) < Date.parse(a) ? b : a);

/**
 * Maps one Vault exchange (request and/or response entries sharing `request.id`) to livescope events.
 * Pure: reads the memory view, returns the events and the memory updates for the reducer to apply.
 */
export function mapVaultExchange(x: VaultExchange, memory: VaultMemoryView, options: VaultOptions): VaultMapping {
  const primary = x.response ?? x.request;
  if (!primary) return { mapped: noEvents('incomplete', 'request.id', 'empty exchange'), updates: [] };
  const req = primary.request;
  const time = normalizeTime(primary.time);
  if (!time) return { mapped: deadLetter('schema-invalid', `vault entry ${req.id}: time ${JSON.stringify(primary.time)} is not an RFC 3339 timestamp`), updates: [] };
  const key = `vault:${req.id}`;
  const stamp = (suffix: string): EventStamp => ({ id: `${key}/${suffix}`, time, source: VAULT_SOURCE });
  const error = errorOf(x.response) || errorOf(x.request);
  const denied = /permission denied/i.test(error);
  const namespace = req.namespace?.path?.replace(/\/+$/, '') || req.namespace?.id || 'root';
  const mountType = req.mount_type ?? x.response?.response?.mount_type;
  const updates: VaultMemoryUpdate[] = [];
  const events: LivescopeEventInput[] = [];
  const identities: IdentityDescription[] = [];
  const uses: CredentialUse[] = [];
  const remote = req.remote_address && isIp(req.remote_address) ? req.remote_address : undefined;
  const done = (skipped?: MappingResult): VaultMapping => {
    if (events.length === 0) return { mapped: skipped ?? noEvents('no-effect', 'request.path', 'nothing to map'), updates };
    return { mapped: { events, identities, recordKey: key, time, source: VAULT_SOURCE, ...(uses.length ? { uses } : {}) }, updates };
  };
  const person = (method: string, field: string, actor: string, what: string): MappingResult =>
    personSkipped(options.humans, `${field} ${actor} (auth method ${method}) is a person: ${what}; livescope tracks non-human identities`, { source: 'vault', actor, actorField: field, time, action: vaultAction(req.path, mountType, req.operation), resource: req.path, ...(remote ? { sourceIp: remote } : {}), outcome: denied ? 'denied' : error ? 'failure' : 'success' });

  if (!x.response && !denied) return done(noEvents('incomplete', 'type', `request ${req.id} without its response entry: its outcome is unknown`));

  // Logins and token creation: the new token is a session of the identity it belongs to.
  const newAuth = x.response?.response?.auth;
  if (!error && newAuth && (LOGIN.test(req.path) || TOKEN_CREATE.test(req.path))) {
    const owner = classifyVaultAuth(newAuth, namespace);
    if (TOKEN_CREATE.test(req.path)) {
      // The creator used a permission too.
      const creator = classifyVaultAuth(x.request?.auth ?? primary.auth, namespace);
      if (creator.kind === 'identity') {
        identities.push(creator.identity);
        events.push(identityEventInput('telemetry.activity', creator.identity.id, { action: vaultAction(req.path, mountType, req.operation), resource: req.path }, stamp('activity')));
      }
    }
    if (owner.kind !== 'identity') {
      return done(owner.kind === 'human' ? person(owner.method, 'response.auth.display_name', newAuth.display_name ?? owner.method, `a token issued at ${req.path}`) : noEvents('unattributed', 'response.auth.display_name', `token owner unknown: ${owner.why}`));
    }
    const sessionId = newAuth.accessor ?? newAuth.client_token ?? key;
    const expiresAt = tokenExpiry(newAuth, time);
    identities.push(owner.identity);
    events.push(identityEventInput('session.started', owner.identity.id, { sessionId, system: 'vault', ...(expiresAt ? { expiresAt } : {}) }, stamp('session')));
    updates.push({ kind: 'session', accessor: sessionId, ...(newAuth.client_token ? { clientToken: newAuth.client_token } : {}), session: { identity: owner.identity, sessionId, ...(expiresAt ? { expiresAt } : {}) } });
    return done();
  }

  // Everything else is attributed to the caller: the token's auth block, or a token seen at login.
  const auth = primary.auth ?? x.request?.auth;
  const classified = classifyVaultAuth(auth, namespace);
  let identity: IdentityDescription | undefined;
  let session: KnownSession | undefined;
  if (classified.kind === 'human') return done(person(classified.method, 'auth.display_name', auth?.display_name ?? classified.method, `${req.operation ?? 'a request'} ${req.path}`));
  const accessor = auth?.accessor ?? req.client_token_accessor;
  if (classified.kind === 'identity') {
    identity = classified.identity;
    session = accessor ? memory.sessionByAccessor(accessor) : undefined;
  } else {
    session = req.client_token ? memory.sessionByToken(req.client_token) : undefined;
    identity = session?.identity;
  }
  if (!identity) {
    const why = classified.kind === 'unknown' ? classified.why : 'caller unknown';
    if (denied) return { mapped: deadLetter('unsupported', `vault denied ${req.operation ?? '?'} ${req.path} (${firstLine(error)}) to a caller that cannot be attributed to an identity: ${why}`), updates };
    return done(noEvents('unattributed', 'auth.display_name', why));
  }
  identities.push(identity);
  let sessionId = session?.sessionId;
  if (!session && accessor && options.implicitSessions) {
    // The token exists (Vault resolved it) but its login was not in this input: record the session.
    const expiresAt = tokenExpiry(auth, time);
    sessionId = accessor;
    session = { identity, sessionId, ...(expiresAt ? { expiresAt } : {}) };
    events.push(identityEventInput('session.started', identity.id, { sessionId, system: 'vault', ...(expiresAt ? { expiresAt } : {}) }, stamp('session')));
    updates.push({ kind: 'session', accessor, ...(req.client_token ? { clientToken: req.client_token } : {}), session });
  }
  const withSession = sessionId ? { sessionId } : {};
  if (accessor && remote) uses.push({ identityId: identity.id, credentialId: accessor, ...withSession, sourceIp: remote, time, recordKey: key, action: `${req.operation ?? '?'} ${req.path}` });

  if (denied) {
    events.push(
      identityEventInput(
        'enforcement.decisions',
        identity.id,
        { enforcerId: options.enforcerId, windowStart: time, windowEnd: time, decisions: [{ action: vaultAction(req.path, mountType, req.operation), resource: req.path, ...withSession, allowed: 0, denied: 1, reason: firstLine(error) }] },
        stamp('denied'),
      ),
    );
    return done();
  }
  if (error) return done(noEvents('failed', 'error', `failed request (${firstLine(error)}): no permission was used`));

  // Token revocation ends the session it names.
  if (req.path === 'auth/token/revoke-self' || req.path === 'auth/token/revoke' || req.path === 'auth/token/revoke-orphan' || req.path === 'auth/token/revoke-accessor') {
    const data = req.data ?? {};
    const target =
      req.path === 'auth/token/revoke-self'
        ? session
        : req.path === 'auth/token/revoke-accessor'
          ? typeof data.accessor === 'string'
            ? memory.sessionByAccessor(data.accessor)
            : undefined
          : typeof data.token === 'string'
            ? memory.sessionByToken(data.token)
            : undefined;
    if (target) {
      identities.push(target.identity);
      events.push(identityEventInput('session.ended', target.identity.id, { sessionId: target.sessionId, reason: `vault token revoked (${req.path.slice('auth/token/'.length)})` }, stamp('ended')));
      updates.push({ kind: 'session-ended', accessor: target.sessionId });
    } else {
      events.push(identityEventInput('telemetry.activity', identity.id, { action: vaultAction(req.path, mountType, req.operation), resource: req.path }, stamp('activity')));
    }
    return done();
  }

  // Leases: renewal and revocation name a lease; dynamic secrets create one.
  const renew = RENEW.exec(req.path);
  const revokePrefix = REVOKE_PREFIX.exec(req.path);
  const revoke = revokePrefix ? null : REVOKE.exec(req.path);
  if (renew || revoke) {
    const leaseId = leaseIdFrom((renew ?? revoke)![1], primary);
    if (!leaseId || HMAC.test(leaseId)) {
      return { mapped: deadLetter('unsupported', `vault ${renew ? 'renewed' : 'revoked'} a lease whose id is HMAC'd in the audit log; add lease_id to the audit device's audit_non_hmac_request_keys to track it`), updates };
    }
    const owner = memory.leaseOwner(leaseId) ?? { identityId: identity.id, ...withSession };
    if (renew) {
      const increment = typeof req.data?.increment === 'number' && req.data.increment > 0 ? req.data.increment * 1000 : options.defaultLeaseTtlMs;
      events.push(identityEventInput('secret.lease-renewed', owner.identityId, { leaseId, expiresAt: minIso(new Date(Date.parse(time) + increment).toISOString(), session?.expiresAt) }, stamp('renew')));
    } else {
      events.push(identityEventInput('secret.lease-revoked', owner.identityId, { leaseId }, stamp('revoke')));
      updates.push({ kind: 'lease-ended', leaseId });
    }
    return done();
  }
  if (revokePrefix) {
    const known = memory.leasesWithPrefix(revokePrefix[1]!);
    for (const [leaseId, owner] of known) {
      events.push(identityEventInput('secret.lease-revoked', owner.identityId, { leaseId }, stamp(`revoke-${sha256Hex(leaseId).slice(0, 12)}`)));
      updates.push({ kind: 'lease-ended', leaseId });
    }
    return done(noEvents('incomplete', 'request.path', `no lease under prefix ${revokePrefix[1]} was seen in this input`));
  }

  const op = secretOperation(req.operation);
  if (op && isSecretPath(req.path, mountType)) {
    const leaseId = x.response?.response?.secret?.lease_id;
    if (leaseId) {
      const leaseMs = x.response?.response?.secret?.lease_duration ? x.response.response.secret.lease_duration * 1000 : options.defaultLeaseTtlMs;
      // A lease never outlives the token that created it: Vault revokes it with the token.
      const expiresAt = minIso(new Date(Date.parse(time) + leaseMs).toISOString(), session?.expiresAt ?? tokenExpiry(auth, time));
      events.push(identityEventInput('secret.lease-created', identity.id, { leaseId, secretPath: req.path, system: 'vault', ...withSession, expiresAt }, stamp('lease')));
      updates.push({ kind: 'lease', leaseId, owner: { identityId: identity.id, ...withSession } });
    }
    events.push(identityEventInput('secret.accessed', identity.id, { secretPath: req.path, operation: op, system: 'vault', ...withSession, ...(leaseId ? { leaseId } : {}) }, stamp('access')));
    return done();
  }
  if (req.operation === 'help') return done(noEvents('no-effect', 'request.operation', 'help request'));
  events.push(identityEventInput('telemetry.activity', identity.id, { action: vaultAction(req.path, mountType, req.operation), resource: req.path }, stamp('activity')));
  return done();
}
