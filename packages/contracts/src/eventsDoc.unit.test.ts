import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS_DOC_BEGIN, EVENTS_DOC_END, renderEventsReference } from './eventsDoc.js';
import { eventTypes } from './events.js';
import { topicSpecs } from './topics.js';

const doc = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');

describe('docs/events.md', () => {
  it('holds the reference generated from the schemas (run `npm run docs:events` after changing a contract)', () => {
    const start = doc.indexOf(EVENTS_DOC_BEGIN);
    const end = doc.indexOf(EVENTS_DOC_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(doc.slice(start, end + EVENTS_DOC_END.length)).toBe(renderEventsReference());
  });

  it('mentions every topic and event type', () => {
    for (const t of topicSpecs) expect(doc).toContain(t.name);
    for (const t of eventTypes) expect(doc).toContain(`\`${t}\``);
  });
});
