import { describeIssues, LivescopeEvent } from '@livescope/contracts';
import { isOversized, type SplitOutput } from './JsonRecordSplitter.js';
import type { AdapterContext, MappingResult, RecordAdapter, SourcedResult } from './MappingResult.js';

/**
 * Checks every event of a result against the contract. An event that fails (a name longer than the
 * contract allows, an id with a space, a bad timestamp) turns the whole result into a `schema-invalid`
 * dead letter: a record is mapped completely or not at all, so the pipeline never sees half of it.
 */
export function validateResult(result: SourcedResult): SourcedResult {
  if (result.deadLetter || result.events.length === 0) return result;
  for (const e of result.events) {
    const parsed = LivescopeEvent.safeParse(e);
    if (!parsed.success) {
      const { message } = describeIssues(parsed.error);
      return { raw: result.raw, events: [], deadLetter: { reason: 'schema-invalid', message: `mapped ${e.type} event ${e.id} fails the contract: ${message}` } };
    }
  }
  return result;
}

/** The mutable handle a shell uses around an adapter's linear state. */
export interface Mapper {
  push(input: SplitOutput): SourcedResult[];
  end(): SourcedResult[];
}

export function createMapper<S>(adapter: RecordAdapter<S>, context: () => AdapterContext): Mapper {
  let state = adapter.initialState();
  return {
    push(input) {
      if (isOversized(input)) return [{ raw: input.raw, events: [], deadLetter: { reason: 'oversized', message: 'record exceeds the maximum record size' } }];
      const step = adapter.step(state, input, context());
      state = step.state;
      return step.results.map(validateResult);
    },
    end() {
      const step = adapter.flush(state, context());
      state = step.state;
      return step.results.map(validateResult);
    },
  };
}

/** Attaches the record's text to a mapping result. */
export const sourced = (raw: string, r: MappingResult): SourcedResult => ({ ...r, raw });

/** The result for an input that is not JSON (for adapters whose records are always JSON). */
export function notJson(raw: string, error: string): SourcedResult {
  return { raw, events: [], deadLetter: { reason: 'not-json', message: `record is not JSON: ${error}` } };
}
