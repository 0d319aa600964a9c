import { describeIssues } from '@livescope/contracts';
import type { z } from 'zod';
import { deadLetter, type MappingResult } from './MappingResult.js';

/** A `schema-invalid` dead letter naming the failing fields of a vendor record. */
export function invalidRecord(what: string, error: z.ZodError): MappingResult {
  return deadLetter('schema-invalid', `${what}: ${describeIssues(error).message}`);
}
