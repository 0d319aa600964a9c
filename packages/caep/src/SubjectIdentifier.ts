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
