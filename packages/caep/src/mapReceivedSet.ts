import { clip, identityEventInput, idPart, sha256Hex, type MappingResult } from '@livescope/adapters';
import type { LivescopeEventInput } from '@livescope/contracts';
import { CaepEventType, RiscEventType, SsfEventType } from './eventTypes.js';
import { onlyEvent, subjectOf, type SetPayload } from './SetPayload.js';
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

/** Mapping result of a received SET; `control` marks SSF stream events (no livescope events). */
export interface ReceivedSetMapping extends MappingResult {
  readonly control?: { readonly type: string; readonly event: Record<string, unknown> };
}

function valueOf(s: SimpleSubject): { value: string; iss?: string } | undefined {
  const v = s as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k]) : undefined);
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

/**
 * A verified SET → livescope events (documented field by field in docs/caep.md):
 * - CAEP `session-revoked` → `session.ended` of the subject's session, or, without a session member,
 *   a high `telemetry.anomaly-detected` (`caep-session-revoked`) so policies can react;
 * - CAEP `credential-change` (revoke/delete) → `telemetry.anomaly-detected` (`caep-credential-revoked`);
 * - CAEP `risk-level-change` → `telemetry.risk-scored` with the configured score of the level;
 * - CAEP `assurance-level-change` (increase, with a session) → `session.mfa-verified`;
 * - RISC `account-disabled` / `account-enabled` / `account-purged` → `identity.disabled` / `.enabled` / `.deleted`;
 *   RISC `credential-compromise` → a critical anomaly;
 * - SSF `verification` and `stream-updated` are control events (no livescope event);
 * - anything else is accepted and ignored, with the reason.
 * Event ids derive from the issuer and `jti`, so a SET delivered twice maps to the same events.
 */
export function mapReceivedSet(p: SetPayload, policy: ReceivedSetPolicy = defaultReceivedSetPolicy): ReceivedSetMapping {
  const { type, event } = onlyEvent(p);
  if (type === SsfEventType.verification || type === SsfEventType.streamUpdated) return { events: [], control: { type, event }, skipped: 'SSF stream control event' };
  const key = `caep:${sha256Hex(`${p.iss}\n${p.jti}`).slice(0, 32)}`;
  const ts = typeof event.event_timestamp === 'number' ? event.event_timestamp : p.iat;
  const time = new Date(ts * 1000).toISOString();
  const stamp = (suffix: string) => ({ id: `${key}/${suffix}`, time, source: RECEIVER_SOURCE });
  const subject = subjectOf(p);
  const principal = principalOf(subject);
  const pv = principal ? valueOf(principal) : undefined;
  if (!pv) return { events: [], skipped: `subject ${subject ? JSON.stringify(subject.format) : '(none)'} names no principal this receiver can map` };
  const identityId = fill(policy.identityTemplate, pv);
  const sessionMember = subject && (subject as Record<string, unknown>).format === 'complex' ? ((subject as Record<string, unknown>).session as SimpleSubject | undefined) : undefined;
  const sv = sessionMember ? valueOf(sessionMember) : undefined;
  const sessionId = sv ? fill(policy.sessionTemplate, sv) : undefined;
  const why = clip(`${p.iss}: ${reasonText(event.reason_admin) ?? reasonText(event.reason) ?? type.split('/').pop()!}`, 1024);
  const anomaly = (kind: string, severity: 'low' | 'medium' | 'high' | 'critical'): LivescopeEventInput =>
    identityEventInput('telemetry.anomaly-detected', identityId, { anomalyId: key, kind, severity, expiresAt: new Date(ts * 1000 + policy.anomalyTtlMs).toISOString() }, stamp('anomaly'));
  const one = (e: LivescopeEventInput): ReceivedSetMapping => ({ events: [e] });

  switch (type) {
    case CaepEventType.sessionRevoked:
      return one(sessionId ? identityEventInput('session.ended', identityId, { sessionId, reason: clip(`CAEP session-revoked from ${why}`, 1024) }, stamp('session-ended')) : anomaly('caep-session-revoked', 'high'));
    case CaepEventType.credentialChange: {
      const change = event.change_type;
      if (change === 'revoke' || change === 'delete') return one(anomaly('caep-credential-revoked', 'high'));
      return { events: [], skipped: `credential-change ${String(change)} needs no livescope event` };
    }
    case CaepEventType.riskLevelChange: {
      const level = typeof event.current_level === 'string' ? event.current_level.toLowerCase() : '';
      const score = policy.riskScores[level];
      if (score === undefined) return { events: [], skipped: `risk level ${String(event.current_level)} has no configured score` };
      return one(identityEventInput('telemetry.risk-scored', identityId, { score, model: clip(`caep:${p.iss}`, 256) }, stamp('risk')));
    }
    case CaepEventType.assuranceLevelChange:
      if (event.change_direction === 'increase' && sessionId) return one(identityEventInput('session.mfa-verified', identityId, { sessionId }, stamp('assurance')));
      return { events: [], skipped: 'assurance-level-change maps only when it increases for a named session' };
    case RiscEventType.accountDisabled:
      return one(identityEventInput('identity.disabled', identityId, { reason: clip(`RISC account-disabled from ${why}`, 1024) }, stamp('disabled')));
    case RiscEventType.accountEnabled:
      return one(identityEventInput('identity.enabled', identityId, { reason: clip(`RISC account-enabled from ${p.iss}`, 1024) }, stamp('enabled')));
    case RiscEventType.accountPurged:
      return one(identityEventInput('identity.deleted', identityId, { reason: clip(`RISC account-purged from ${why}`, 1024) }, stamp('deleted')));
    case RiscEventType.credentialCompromise:
      return one(anomaly('risc-credential-compromise', 'critical'));
    default:
      return { events: [], skipped: `event type ${type} has no livescope mapping` };
  }
}
