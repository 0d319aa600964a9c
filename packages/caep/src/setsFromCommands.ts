import { sha256Hex } from '@livescope/adapters';
import type { Cause, Revocation, ScopeChange } from '@livescope/contracts';
import { CaepEventType, LivescopeMember, RiscEventType, SsfEventType } from './eventTypes.js';
import type { SetPayload } from './SetPayload.js';
import type { SubjectIdentifier } from './SubjectIdentifier.js';

/**
 * A SET before it is addressed: what happened to whom. `setPayload` binds it to an issuer and an
 * audience (a stream, or the Kafka topic) and derives its `jti` deterministically, so a replayed
 * command produces the same SET and receivers drop the copy.
 */
export interface SetDraft {
  /** Stable across replays: the command it derives from and the event type. */
  readonly key: string;
  /** Livescope identity the SET is about (the Kafka key of the caep topic); absent for stream-level SETs. */
  readonly identityId?: string;
  readonly eventType: string;
  readonly subject: SubjectIdentifier;
  readonly event: Record<string, unknown>;
  readonly txn?: string;
  /** Seconds since the epoch: when the change happened (iat and event_timestamp). */
  readonly time: number;
}

export interface SubjectOptions {
  /** `iss` of the `iss_sub` subjects naming livescope identities; usually the transmitter's issuer. */
  readonly subjectIssuer: string;
  /**
   * Subject of session SETs: `complex` (`user` = the identity, `session` = opaque session id; default)
   * or `iss_sub` (the identity alone, for receivers that only accept simple subjects).
   */
  readonly sessionSubjects: 'complex' | 'iss_sub';
}

export const identitySubject = (o: SubjectOptions, identityId: string): SubjectIdentifier => ({ format: 'iss_sub', iss: o.subjectIssuer, sub: identityId });

function initiatingEntity(cause: Cause): 'admin' | 'policy' | 'system' {
  if (cause.timer) return 'system';
  if (cause.actor) return 'admin';
  return 'policy';
}

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/**
 * A revocation → one CAEP SET: `session-revoked` for a session; `credential-change` (change_type
 * `revoke`) for a token (`credential_type` `bearer-token`) or a secret lease (`credential_type`
 * `secret-lease`), with the credential's id, system and secret path as livescope extension members.
 */
export function draftsForRevocation(r: Revocation, o: SubjectOptions): SetDraft[] {
  const time = seconds(r.at);
  const common = { initiating_entity: initiatingEntity(r.cause), reason_admin: { en: r.reason || 'revoked by livescope' }, event_timestamp: time, [LivescopeMember.revocationId]: r.revocationId, [LivescopeMember.system]: r.target.system };
  const txn = r.cause.eventId ? { txn: r.cause.eventId } : {};
  const user = identitySubject(o, r.identityId);
  if (r.target.type === 'session') {
    const subject: SubjectIdentifier = o.sessionSubjects === 'complex' ? { format: 'complex', user, session: { format: 'opaque', id: r.target.id } } : user;
    return [{ key: `revocation:${r.revocationId}`, identityId: r.identityId, eventType: CaepEventType.sessionRevoked, subject, event: common, ...txn, time }];
  }
  const credential = {
    ...common,
    credential_type: r.target.type === 'token' ? 'bearer-token' : 'secret-lease',
    change_type: 'revoke',
    [LivescopeMember.credentialId]: r.target.id,
    ...(r.target.secretPath ? { [LivescopeMember.secretPath]: r.target.secretPath } : {}),
  };
  return [{ key: `revocation:${r.revocationId}`, identityId: r.identityId, eventType: CaepEventType.credentialChange, subject: user, event: credential, ...txn, time }];
}

/**
 * A scope change → `token-claims-change` with the new scope as claims (when permissions were added or
 * removed), plus `assurance-level-change` when the change followed an MFA verification, and RISC
 * `account-disabled` / `account-enabled` / `account-purged` when it followed the identity's lifecycle.
 */
export function draftsForScopeChange(c: ScopeChange, o: SubjectOptions): SetDraft[] {
  const time = seconds(c.at);
  const subject = identitySubject(o, c.identityId);
  const txn = c.cause.eventId ? { txn: c.cause.eventId } : {};
  const base = { event_timestamp: time, initiating_entity: initiatingEntity(c.cause) };
  const key = (what: string): string => `scope:${c.identityId}/${c.version}/${what}`;
  const out: SetDraft[] = [];
  if (c.direction !== 'refresh' && (c.added.length > 0 || c.removed.length > 0)) {
    out.push({
      key: key('claims'),
      identityId: c.identityId,
      eventType: CaepEventType.tokenClaimsChange,
      subject,
      event: {
        ...base,
        reason_admin: { en: `runtime scope ${c.direction}: ${c.removed.length} permission(s) removed, ${c.added.length} added (version ${c.version})` },
        claims: {
          livescope_scope_version: c.version,
          livescope_status: c.status,
          livescope_permissions: c.permissions.map((p) => ({ action: p.action, resource: p.resource, access: p.access, valid_until: p.validUntil })),
          livescope_sessions: c.sessions,
        },
        [LivescopeMember.scopeVersion]: c.version,
      },
      ...txn,
      time,
    });
  }
  if (c.cause.eventType === 'session.mfa-verified') {
    out.push({ key: key('assurance'), identityId: c.identityId, eventType: CaepEventType.assuranceLevelChange, subject, event: { ...base, namespace: 'RFC8176', current_level: 'mfa', change_direction: 'increase' }, ...txn, time });
  }
  const lifecycle = ({ 'identity.disabled': RiscEventType.accountDisabled, 'identity.enabled': RiscEventType.accountEnabled, 'identity.deleted': RiscEventType.accountPurged } as Record<string, string>)[c.cause.eventType ?? ''];
  if (lifecycle) out.push({ key: key('lifecycle'), identityId: c.identityId, eventType: lifecycle, subject, event: {}, ...txn, time });
  return out;
}

/** SSF verification event (§8.1.4): the subject is the stream itself. */
export function verificationDraft(streamId: string, state: string | undefined, nowSec: number, nonce: string): SetDraft {
  return { key: `verification:${streamId}:${nonce}`, eventType: SsfEventType.verification, subject: { format: 'opaque', id: streamId }, event: state === undefined ? {} : { state }, time: nowSec };
}

/** SSF stream-updated event (§8.1.5). */
export function streamUpdatedDraft(streamId: string, status: 'enabled' | 'paused' | 'disabled', reason: string | undefined, nowSec: number, nonce: string): SetDraft {
  return { key: `stream-updated:${streamId}:${nonce}`, eventType: SsfEventType.streamUpdated, subject: { format: 'opaque', id: streamId }, event: { status, ...(reason ? { reason } : {}) }, time: nowSec };
}

export interface Addressing {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  /** What the SET is addressed to (a stream id, or `topic`): part of the jti so two streams never share one. */
  readonly scope: string;
}

/** The SET payload of a draft for one audience. */
export function setPayload(d: SetDraft, a: Addressing): SetPayload {
  return {
    iss: a.issuer,
    jti: sha256Hex(`${a.scope}\n${d.key}`).slice(0, 32),
    iat: d.time,
    aud: typeof a.audience === 'string' ? a.audience : [...a.audience],
    ...(d.txn ? { txn: d.txn } : {}),
    sub_id: d.subject,
    events: { [d.eventType]: d.event },
  };
}
