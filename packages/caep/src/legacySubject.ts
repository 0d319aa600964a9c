import { SubjectIdentifier } from './SubjectIdentifier.js';

/**
 * Subjects in the forms deployed transmitters still send: the pre-RFC 9493 RISC form
 * (`{"subject_type": "iss-sub", "iss": …, "sub": …}`, `email`, `phone`, `id_token_claims`) and
 * hyphenated draft format names (`iss-sub`, `phone`). Returns the RFC 9493 / SSF 1.0 equivalent,
 * or undefined when the value is no subject this receiver understands.
 */
export function normalizeSubject(value: unknown): SubjectIdentifier | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const type = typeof v.format === 'string' ? v.format : typeof v.subject_type === 'string' ? v.subject_type : undefined;
  const str = (k: string): string | undefined => (typeof v[k] === 'string' && (v[k]).length > 0 ? (v[k]) : undefined);
  let candidate: unknown = value;
  switch (type?.toLowerCase().replace(/-/g, '_')) {
    case 'iss_sub':
    case 'id_token_claims':
      candidate = str('iss') && str('sub') ? { format: 'iss_sub', iss: str('iss'), sub: str('sub') } : undefined;
      break;
    case 'email':
      candidate = str('email') ? { format: 'email', email: str('email') } : undefined;
      break;
    case 'phone':
    case 'phone_number':
      candidate = str('phone_number') ?? str('phone') ? { format: 'phone_number', phone_number: str('phone_number') ?? str('phone') } : undefined;
      break;
    case 'opaque':
      candidate = str('id') ? { format: 'opaque', id: str('id') } : undefined;
      break;
    case undefined:
      return undefined;
    default:
      break;
  }
  const parsed = SubjectIdentifier.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

/** Whether a value uses a legacy form (`subject_type`, or a hyphenated format name). */
export const isLegacySubject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && ('subject_type' in value || (typeof (value as { format?: unknown }).format === 'string' && ['iss-sub', 'phone', 'id-token-claims'].includes((value as { format: string }).format)));
