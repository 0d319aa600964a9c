import { describeIssues } from '@livescope/contracts';
import { eventSchemas } from './caepEvents.js';
import { normalizeEventType } from './eventTypes.js';
import { forbiddenClaims, SetPayload } from './SetPayload.js';

/**
 * Checks a SET payload against RFC 8417 / SSF 1.0 structure and, for event types this package knows,
 * the members CAEP 1.0, SSF 1.0 and RISC require. Returns the problems (empty when valid).
 */
export function validateSet(payload: unknown): string[] {
  const parsed = SetPayload.safeParse(payload);
  if (!parsed.success) return [describeIssues(parsed.error).message];
  const problems: string[] = forbiddenClaims(parsed.data).map((c) => `forbidden claim ${c}`);
  for (const [uri, event] of Object.entries(parsed.data.events)) {
    const type = normalizeEventType(uri);
    const schema = eventSchemas[type];
    if (!schema) continue;
    const r = schema.safeParse(event);
    if (!r.success) problems.push(`${type}: ${describeIssues(r.error).message}`);
  }
  return problems;
}
