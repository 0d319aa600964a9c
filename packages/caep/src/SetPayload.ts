import { z } from 'zod';
import { SubjectIdentifier } from './SubjectIdentifier.js';

const langTagged = z.record(z.string().max(35), z.string().max(4096));
/** Members CAEP 1.0 defines for every event (§2). `reason_*` are language-tagged maps (older drafts: plain strings). */
export const CaepCommonMembers = {
  event_timestamp: z.number().int().optional(),
  initiating_entity: z.enum(['admin', 'user', 'policy', 'system']).optional(),
  reason_admin: z.union([langTagged, z.string()]).optional(),
  reason_user: z.union([langTagged, z.string()]).optional(),
  /** Older drafts put the subject inside the event. */
  subject: SubjectIdentifier.optional(),
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

/** The one event of an SSF 1.0 SET. */
export function onlyEvent(p: SetPayload): { type: string; event: Record<string, unknown> } {
  const entries = Object.entries(p.events);
  const [type, event] = entries[0]!;
  return { type, event };
}

/** The subject of a SET: `sub_id`, else the event's `subject` member (older drafts). */
export function subjectOf(p: SetPayload): SubjectIdentifier | undefined {
  if (p.sub_id) return p.sub_id;
  const subject = (onlyEvent(p).event as { subject?: unknown }).subject;
  const parsed = SubjectIdentifier.safeParse(subject);
  return parsed.success ? parsed.data : undefined;
}

export const audiences = (p: Pick<SetPayload, 'aud'>): string[] => (Array.isArray(p.aud) ? p.aud : [p.aud]);
