// Regenerates the reference section of docs/events.md from the zod contracts.
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENTS_DOC_BEGIN, EVENTS_DOC_END, renderEventsReference } from '@livescope/contracts';

const path = new URL('../docs/events.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf(EVENTS_DOC_BEGIN);
const end = doc.indexOf(EVENTS_DOC_END);
if (start < 0 || end < 0) throw new Error('docs/events.md lacks the generated-section markers');
writeFileSync(path, doc.slice(0, start) + renderEventsReference() + doc.slice(end + EVENTS_DOC_END.length));
process.stdout.write('docs/events.md regenerated\n');
