import { z } from 'zod';

/**
 * Subject identifiers (RFC 9493 and SSF 1.0 §3): simple formats, `complex` subjects whose members
 * are simple identifiers of one principal, and proprietary formats agreed between the parties.
 */
const s = z.string().min(1).max(2048);
export const EmailSubject = z.looseObject({ format: z.literal('email'), email: s });
export const IssSubSubject = z.looseObject({ format: z.literal('iss_sub'), iss: s, sub: s });
export const OpaqueSubject = z.looseObject({ format: z.literal('opaque'), id: s });
export const PhoneSubject = z.looseObject({ format: z.literal('phone_number'), phone_number: s });
export const AccountSubject = z.looseObject({ format: z.literal('account'), uri: s });
export const DidSubject = z.looseObject({ format: z.literal('did'), url: s });
export const UriSubject = z.looseObject({ format: z.literal('uri'), uri: s });
/** `jwt_id` (SSF 1.0), `jwt-id` in earlier drafts. */
export const JwtIdSubject = z.looseObject({ format: z.union([z.literal('jwt_id'), z.literal('jwt-id')]), iss: s, jti: s });
export const SamlAssertionSubject = z.looseObject({ format: z.literal('saml_assertion_id'), issuer: s, assertion_id: s });
const knownFormats = ['email', 'iss_sub', 'opaque', 'phone_number', 'account', 'did', 'uri', 'jwt_id', 'jwt-id', 'saml_assertion_id', 'complex', 'aliases'];
export const ProprietarySubject = z.looseObject({ format: s.refine((f) => !knownFormats.includes(f), 'a known format with missing members') });

export const SimpleSubject = z.union([EmailSubject, IssSubSubject, OpaqueSubject, PhoneSubject, AccountSubject, DidSubject, UriSubject, JwtIdSubject, SamlAssertionSubject, ProprietarySubject]);
export type SimpleSubject = z.infer<typeof SimpleSubject>;

export const COMPLEX_MEMBERS = ['user', 'device', 'session', 'application', 'tenant', 'org_unit', 'group'] as const;
export const ComplexSubject = z
  .looseObject({ format: z.literal('complex'), user: SimpleSubject.optional(), device: SimpleSubject.optional(), session: SimpleSubject.optional(), application: SimpleSubject.optional(), tenant: SimpleSubject.optional(), org_unit: SimpleSubject.optional(), group: SimpleSubject.optional() })
  .refine((c) => COMPLEX_MEMBERS.some((m) => c[m] !== undefined), 'a complex subject needs at least one member');
export type ComplexSubject = z.infer<typeof ComplexSubject>;

export const AliasesSubject = z.looseObject({ format: z.literal('aliases'), identifiers: z.array(SimpleSubject).min(1).max(32) });

export const SubjectIdentifier = z.union([ComplexSubject, AliasesSubject, SimpleSubject]);
export type SubjectIdentifier = z.infer<typeof SubjectIdentifier>;

/** A canonical string of a simple subject, for matching subjects added to a stream. */
export function subjectKey(subject: SubjectIdentifier): string {
  const v = subject as Record<string, unknown>;
  const entries = Object.entries(v)
    .filter(([, x]) => typeof x === 'string')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (v.format === 'complex') {
    return `complex(${COMPLEX_MEMBERS.filter((m) => v[m] !== undefined)
      .map((m) => `${m}=${subjectKey(v[m] as SubjectIdentifier)}`)
      .join(';')})`;
  }
  return entries.map(([k, x]) => `${k}=${String(x)}`).join('|');
}

/** The simple identifiers a subject consists of (itself, the members of a complex subject, or aliases). */
export function simpleParts(subject: SubjectIdentifier): SimpleSubject[] {
  const v = subject as Record<string, unknown>;
  if (v.format === 'complex') return COMPLEX_MEMBERS.map((m) => v[m]).filter((x): x is SimpleSubject => x !== undefined);
  if (v.format === 'aliases') return (v.identifiers as SimpleSubject[] | undefined) ?? [];
  return [subject];
}

const canonical = (v: unknown): string => {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
    .join(',')}}`;
};

/**
 * Whether an event's subject matches a subject a receiver added to (or removed from) a stream, as
 * SSF 1.0 "Subject Matching" defines it: simple subjects match when identical; complex subjects
 * match when, for every member (`user`, `device`, `session`…), either side leaves it undefined or both
 * are identical. A simple subject and a complex one match when the simple one is identical to one of
 * the complex subject's members (a receiver that added a user receives the SETs about that user's
 * sessions).
 */
export function subjectsMatch(streamSubject: SubjectIdentifier, eventSubject: SubjectIdentifier): boolean {
  const a = streamSubject as Record<string, unknown>;
  const b = eventSubject as Record<string, unknown>;
  if (a.format === 'complex' && b.format === 'complex') {
    return COMPLEX_MEMBERS.every((m) => a[m] === undefined || b[m] === undefined || canonical(a[m]) === canonical(b[m]));
  }
  if (a.format !== 'complex' && b.format !== 'complex') return canonical(a) === canonical(b);
  const [simple, complex] = a.format === 'complex' ? [b, a] : [a, b];
  return COMPLEX_MEMBERS.some((m) => complex[m] !== undefined && canonical(complex[m]) === canonical(simple));
}
