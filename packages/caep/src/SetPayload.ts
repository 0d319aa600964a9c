import { z } from 'zod';
import { SubjectIdentifier } from './SubjectIdentifier.js';
import { normalizeEventType } from './eventTypes.js';
import { normalizeSubject } from './legacySubject.js';

const langTagged = z.record(z.string().max(35), z.string().max(4096));
/** Members CAEP 1.0 defines for every event (§2). `reason_*` are language-tagged maps (older drafts: plain strings). */
export const CaepCommonMembers = {
  event_timestamp: z.number().int().optional(),
  initiating_entity: z.enum(['admin', 'user', 'policy', 'system']).optional(),
  reason_admin: z.union([langTagged, z.string()]).optional(),
  reason_user: z.union([langTagged, z.string()]).optional(),
  /** Older drafts put the subject inside the event, RISC transmitters in its legacy `subject_type` form. */
  subject: z
    .unknown()
    .refine((v) => v === undefined || normalizeSubject(v) !== undefined, 'subject is not a subject identifier (RFC 9493, or the legacy RISC subject_type form)')
    .optional(),
};

/**
 * A Security Event Token payload (RFC 8417) as SSF 1.0 profiles it: issuer, unique id, issue time,
 * audience, optional transaction id, the subject (`sub_id`, or inside the event in older drafts) and
 * the `events` claim (one event per SET in SSF 1.0, CAEP interop profile §3).
 */
export const SetPayload = z
  .looseObject({
    iss: z.string().min(1).max(2048),
    jti: z.string().min(1).max(256),
    iat: z.number().int().nonnegative(),
    aud: z.union([z.string().min(1).max(2048), z.array(z.string().min(1).max(2048)).min(1).max(32)]),
    txn: z.string().max(256).optional(),
    toe: z.number().int().optional(),
    sub_id: SubjectIdentifier.optional(),
    events: z.record(z.string().min(1).max(512), z.looseObject({})).refine((e) => Object.keys(e).length >= 1, 'a SET carries at least one event'),
  })
  .refine((p) => (p as { sub?: unknown }).sub === undefined || typeof (p as { sub?: unknown }).sub === 'string', 'sub must be a string when present');
export type SetPayload = z.infer<typeof SetPayload>;

/**
 * The event of an SSF 1.0 SET, its type normalised (`normalizeEventType`). SSF allows several keys
 * only as alternative URIs of one event type: the first key whose type this package knows wins.
 */
export function onlyEvent(p: SetPayload, known: (type: string) => boolean = () => false): { type: string; uri: string; event: Record<string, unknown> } {
  const entries = Object.entries(p.events);
  const pick = entries.find(([uri]) => known(normalizeEventType(uri))) ?? entries[0]!;
  return { type: normalizeEventType(pick[0]), uri: pick[0], event: pick[1] };
}

/**
 * The subject of a SET and where it was found: `sub_id` (SSF 1.0), else the event's `subject`
 * member (earlier drafts, and the legacy RISC `subject_type` form), else a top-level `subject`.
 */
export function subjectWithSource(p: SetPayload, known?: (type: string) => boolean): { subject: SubjectIdentifier; field: string } | undefined {
  if (p.sub_id) return { subject: normalizeSubject(p.sub_id) ?? p.sub_id, field: 'sub_id' };
  const { uri, event } = onlyEvent(p, known);
  const inEvent = normalizeSubject((event as { subject?: unknown }).subject);
  if (inEvent) return { subject: inEvent, field: `events["${uri}"].subject` };
  const top = normalizeSubject((p as { subject?: unknown }).subject);
  return top ? { subject: top, field: 'subject' } : undefined;
}

export function subjectOf(p: SetPayload): SubjectIdentifier | undefined {
  return subjectWithSource(p)?.subject;
}

/** Claims SSF 1.0 forbids in a SET (§ "Distinguishing SETs from other Kinds of JWTs"): `exp` and `sub`. */
export function forbiddenClaims(p: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (p.exp !== undefined) out.push('exp (SSF 1.0: "The exp claim MUST NOT be used in SETs")');
  if (p.sub !== undefined) out.push('sub (SSF 1.0: "The JWT sub claim MUST NOT be present in any SET containing an SSF event")');
  return out;
}

export const audiences = (p: Pick<SetPayload, 'aud'>): string[] => (Array.isArray(p.aud) ? p.aud : [p.aud]);
