import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LivescopeEventInput } from '@livescope/contracts';
import { mapText } from '../src/common/mapText.js';
import type { RecordAdapter, SourcedResult } from '../src/common/MappingResult.js';
import type { SkipNote } from '../src/common/SkipNote.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** Fallback event time for records without one (fixed so expectations are exact). */
export const RECEIVED_AT = '2026-01-01T00:00:00.000Z';

export const fixture = (path: string): string => readFileSync(`${FIXTURES}${path}`, 'utf8');

/** What a result is, without the original text: events, or a skip note, or a dead letter. */
export type Outcome = { events: LivescopeEventInput[] } | { skipped: SkipNote } | { deadLetter: { reason: string; message: string } };

export function outcomes(results: readonly SourcedResult[]): Outcome[] {
  return results.map((r) => (r.deadLetter ? { deadLetter: r.deadLetter } : r.events.length ? { events: r.events } : { skipped: r.skipped ?? { code: 'no-effect', field: '(none)', message: '(no skip note)' } }));
}

export function mapFixture<S>(adapter: RecordAdapter<S>, path: string): Outcome[] {
  return outcomes(mapText(adapter, fixture(path), { receivedAt: RECEIVED_AT }));
}

/** An expected event as the adapters write it. */
export function ev(source: string, id: string, type: string, subject: string | undefined, time: string, data: Record<string, unknown>): LivescopeEventInput {
  return { specversion: '1.0', id, type, source, time, ...(subject === undefined ? {} : { subject }), data } as LivescopeEventInput;
}
