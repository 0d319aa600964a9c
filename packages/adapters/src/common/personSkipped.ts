import type { MappingResult } from './MappingResult.js';
import type { HumanActivity, HumanMode } from './SkipNote.js';

/**
 * The result for a record whose actor is a person: skipped with code `human` and the field that
 * shows it, and, with `humans: 'keep'`, the person's activity for human-approval context.
 */
export function personSkipped(humans: HumanMode, message: string, activity: HumanActivity): MappingResult {
  return { events: [], skipped: { code: 'human', field: activity.actorField, message }, ...(humans === 'keep' ? { human: activity } : {}) };
}
