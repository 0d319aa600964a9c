import { clip, identityEventInput, idPart, sha256Hex, type MappingResult, type SkipNote } from '@livescope/adapters';
import type { LivescopeEventInput } from '@livescope/contracts';
import { CaepEventType, RiscEventType, SsfEventType } from './eventTypes.js';
import { onlyEvent, subjectWithSource, type SetPayload } from './SetPayload.js';
import { simpleParts, type SimpleSubject, type SubjectIdentifier } from './SubjectIdentifier.js';

/** How a receiver turns SETs of one issuer into livescope events. */
export interface ReceivedSetPolicy {
  /**
   * Identity id of a subject: `{value}` is replaced by the subject's identifying value (`sub` of
   * iss_sub, `id` of opaque, `email`, `phone_number`, `uri`…) and `{iss}` by its issuer. For a complex
   * subject the `user` (else `application`) member is used. Default `{value}`.
   */
  readonly identityTemplate: string;
  /** Session id from the `session` member of a complex subject. Default `{value}`. */
  readonly sessionTemplate: string;
  /** `risk-level-change` levels (case-insensitive) → livescope risk score 0-100. */
  readonly riskScores: Readonly<Record<string, number>>;
  /** Lifetime of the anomalies raised for credential changes and sessions revoked without a session id (ms). Default 24 h. */
  readonly anomalyTtlMs: number;
}

export const defaultReceivedSetPolicy: ReceivedSetPolicy = {
  identityTemplate: '{value}',
  sessionTemplate: '{value}',
  riskScores: { low: 20, medium: 50, high: 90 },
  anomalyTtlMs: 24 * 3_600_000,
};

export const RECEIVER_SOURCE = 'livescope-receiver/ssf';

/**
 * Mapping result of a received SET:
 * - `events`, or `skipped` (accepted, no effect, with the reason);
 * - `control` for SSF stream events (verification, stream-updated);
 * - `refused` when the SET is about something the receiver cannot resolve (its subject): the answer
 *   is an RFC 8935 error, so the transmitter knows it was not delivered;
 * - `fallback`: narrowing events to publish instead when the receiver may not send the control events
 *   of `events` (no producer key): RISC account-disabled becomes a critical anomaly.
 */
export interface ReceivedSetMapping extends MappingResult {
  /** True when the type is one livescope has no mapping for (accepted with no effect). */
  readonly unmapped?: true;
  readonly control?: { readonly type: string; readonly event: Record<string, unknown> };
  readonly refused?: { readonly err: 'invalid_request'; readonly description: string };
  readonly fallback?: readonly LivescopeEventInput[];
}

/** Event types this receiver acts on (the rest are accepted with no effect). */
const ACTIONABLE: ReadonlySet<string> = new Set([
  CaepEventType.sessionRevoked,
  CaepEventType.credentialChange,
  CaepEventType.riskLevelChange,
  CaepEventType.assuranceLevelChange,
  RiscEventType.accountDisabled,
  RiscEventType.accountEnabled,
  RiscEventType.accountPurged,
  RiscEventType.accountCredentialChangeRequired,
  RiscEventType.credentialCompromise,
  RiscEventType.sessionsRevoked,
  RiscEventType.tokensRevoked,
]);
const KNOWN: ReadonlySet<string> = new Set([...ACTIONABLE, ...Object.values(CaepEventType), ...Object.values(SsfEventType), ...Object.values(RiscEventType)]);
export const isKnownEventType = (type: string): boolean => KNOWN.has(type);
/** Event types a received SET changes something for (when its subject resolves). */
export const isActionableEventType = (type: string): boolean => ACTIONABLE.has(type);

function valueOf(s: SimpleSubject): { value: string; iss?: string } | undefined {
  const v = s as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  switch (v.format) {
    case 'iss_sub':
      return { value: str('sub')!, iss: str('iss') };
    case 'opaque':
      return { value: str('id')! };
    case 'email':
      return { value: str('email')! };
    case 'phone_number':
      return { value: str('phone_number')! };
    case 'account':
    case 'uri':
      return { value: str('uri')! };
    case 'did':
      return { value: str('url')! };
    default:
      return undefined;
  }
}

/** Fills a template; values are made id-safe (spaces and non-ASCII percent-encoded) as the adapters do. */
const fill = (template: string, v: { value: string; iss?: string }): string => template.replaceAll('{value}', idPart(v.value)).replaceAll('{iss}', idPart(v.iss ?? ''));

function principalOf(subject: SubjectIdentifier | undefined): SimpleSubject | undefined {
  if (!subject) return undefined;
  const v = subject as Record<string, unknown>;
  if (v.format === 'complex') return (v.user ?? v.application) as SimpleSubject | undefined;
  if (v.format === 'aliases') return simpleParts(subject).find((p) => valueOf(p) !== undefined);
  return subject;
}

const reasonText = (r: unknown): string | undefined => (typeof r === 'string' ? r : r && typeof r === 'object' ? ((r as Record<string, string>).en ?? Object.values(r as Record<string, string>)[0]) : undefined);
const skip = (code: SkipNote['code'], field: string, message: string): ReceivedSetMapping => ({ events: [], skipped: { code, field, message } });

/**
 * A verified SET → livescope events (documented field by field in docs/caep.md):
 * - CAEP `session-revoked` → `session.ended` of the subject's session, or, without a session member,
 *   a high `telemetry.anomaly-detected` (`caep-session-revoked`) so policies can react; RISC
 *   `sessions-revoked` likewise;
 * - CAEP `credential-change` (revoke/delete), OAuth `tokens-revoked` → `caep-credential-revoked` anomaly;
 * - CAEP `risk-level-change` → `telemetry.risk-scored` with the configured score of the level;
 * - CAEP `assurance-level-change` (increase, with a session) → `session.mfa-verified`;
 * - RISC `account-disabled` / `account-enabled` / `account-purged` → `identity.disabled` / `.enabled` /
 *   `.deleted`; `account-credential-change-required` → a high anomaly; `credential-compromise` → critical;
 * - SSF `verification` and `stream-updated` (also their pre-final `…/sse/…` URIs) are control events;
 * - other types are accepted with no effect, with the reason; an actionable event whose subject names
 *   no principal is refused (`invalid_request`), never silently accepted.
 * The subject is `sub_id`, else the event's `subject` (earlier drafts, legacy RISC `subject_type`).
 * Event ids derive from the issuer and `jti`, so a SET delivered twice maps to the same events.
 */
export function mapReceivedSet(p: SetPayload, policy: ReceivedSetPolicy = defaultReceivedSetPolicy): ReceivedSetMapping {
  const { type, uri, event } = onlyEvent(p, isKnownEventType);
  if (type === SsfEventType.verification || type === SsfEventType.streamUpdated) return { events: [], control: { type, event }, skipped: { code: 'no-effect', field: `events["${uri}"]`, message: 'SSF stream control event' } };
  if (!ACTIONABLE.has(type)) return { ...skip('no-effect', `events["${uri}"]`, `event type ${type} has no livescope mapping`), unmapped: true };
  const key = `caep:${sha256Hex(`${p.iss}\n${p.jti}`).slice(0, 32)}`;
  const ts = typeof event.event_timestamp === 'number' ? event.event_timestamp : p.iat;
  const time = new Date(ts * 1000).toISOString();
  const stamp = (suffix: string) => ({ id: `${key}/${suffix}`, time, source: RECEIVER_SOURCE });
  const found = subjectWithSource(p, isKnownEventType);
  const subject = found?.subject;
  const principal = principalOf(subject);
  const pv = principal ? valueOf(principal) : undefined;
  if (!pv) {
    const what = subject ? `subject format ${JSON.stringify((subject as { format?: unknown }).format)} (${found.field}) names no principal this receiver can map` : 'the SET has no subject (sub_id, or a subject member in the event)';
    return { events: [], refused: { err: 'invalid_request', description: `${type.split('/').pop()} not applied: ${what}` } };
  }
  const identityId = fill(policy.identityTemplate, pv);
  const sessionMember = subject && (subject as Record<string, unknown>).format === 'complex' ? ((subject as Record<string, unknown>).session as SimpleSubject | undefined) : undefined;
  const sv = sessionMember ? valueOf(sessionMember) : undefined;
  const sessionId = sv ? fill(policy.sessionTemplate, sv) : undefined;
  const why = clip(`${p.iss}: ${reasonText(event.reason_admin) ?? reasonText(event.reason) ?? type.split('/').pop()!}`, 1024);
  const anomaly = (kind: string, severity: 'low' | 'medium' | 'high' | 'critical'): LivescopeEventInput =>
    identityEventInput('telemetry.anomaly-detected', identityId, { anomalyId: key, kind, severity, expiresAt: new Date(ts * 1000 + policy.anomalyTtlMs).toISOString() }, stamp('anomaly'));
  const one = (e: LivescopeEventInput): ReceivedSetMapping => ({ events: [e] });
  const field = `events["${uri}"]`;

  switch (type) {
    case CaepEventType.sessionRevoked:
      return one(sessionId ? identityEventInput('session.ended', identityId, { sessionId, reason: clip(`CAEP session-revoked from ${why}`, 1024) }, stamp('session-ended')) : anomaly('caep-session-revoked', 'high'));
    case RiscEventType.sessionsRevoked:
      return one(anomaly('risc-sessions-revoked', 'high'));
    case CaepEventType.credentialChange: {
      const change = event.change_type;
      if (change === 'revoke' || change === 'delete') return one(anomaly('caep-credential-revoked', 'high'));
      return skip('no-effect', `${field}.change_type`, `credential-change ${String(change)} needs no livescope event`);
    }
    case RiscEventType.tokensRevoked:
      return one(anomaly('caep-credential-revoked', 'high'));
    case CaepEventType.riskLevelChange: {
      const level = typeof event.current_level === 'string' ? event.current_level.toLowerCase() : '';
      const score = policy.riskScores[level];
      if (score === undefined) return skip('no-effect', `${field}.current_level`, `risk level ${String(event.current_level)} has no configured score`);
      return one(identityEventInput('telemetry.risk-scored', identityId, { score, model: clip(`caep:${p.iss}`, 256) }, stamp('risk')));
    }
    case CaepEventType.assuranceLevelChange:
      if (event.change_direction === 'increase' && sessionId) return one(identityEventInput('session.mfa-verified', identityId, { sessionId }, stamp('assurance')));
      return skip('no-effect', `${field}.change_direction`, 'assurance-level-change maps only when it increases for a named session');
    case RiscEventType.accountDisabled:
      return { events: [identityEventInput('identity.disabled', identityId, { reason: clip(`RISC account-disabled from ${why}`, 1024) }, stamp('disabled'))], fallback: [anomaly('risc-account-disabled', 'critical')] };
    case RiscEventType.accountEnabled:
      return one(identityEventInput('identity.enabled', identityId, { reason: clip(`RISC account-enabled from ${p.iss}`, 1024) }, stamp('enabled')));
    case RiscEventType.accountPurged:
      return { events: [identityEventInput('identity.deleted', identityId, { reason: clip(`RISC account-purged from ${why}`, 1024) }, stamp('deleted'))], fallback: [anomaly('risc-account-purged', 'critical')] };
    case RiscEventType.accountCredentialChangeRequired:
      return one(anomaly('risc-credential-change-required', 'high'));
    case RiscEventType.credentialCompromise:
      return one(anomaly('risc-credential-compromise', 'critical'));
    default:
      return skip('no-effect', field, `event type ${type} has no livescope mapping`);
  }
}
