import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_ROOT, emptyTally, runCorpusTest, summarize } from './corpusHarness.js';
import { readTarGz } from './readTarGz.js';

/**
 * The full upstream corpus (7,809 tests, 62,472 requests), read straight from the archive in
 * memory. It takes well under the unit budget of a few minutes, so it runs with the unit tier.
 */
describe('full cedar corpus (corpus-tests.tar.gz)', () => {
  it('agrees on every request', () => {
    const started = performance.now();
    const files = readTarGz(join(CORPUS_ROOT, 'corpus-tests.tar.gz'));
    const read = (path: string): string => {
      const f = files.get(path);
      if (!f) throw new Error(`not in the archive: ${path}`);
      return f.toString('utf8');
    };
    const tally = emptyTally();
    const tests = [...files.keys()].filter((n) => n.endsWith('.json') && !n.endsWith('.entities.json')).sort();
    for (const t of tests) runCorpusTest(read, t, tally);
    console.log(summarize('full corpus', tally, performance.now() - started));
    if (tally.fallbackReasons.length > 0) console.log(`fallback policies:\n${tally.fallbackReasons.slice(0, 20).join('\n')}`);
    expect(tally.mismatches.slice(0, 5)).toEqual([]);
    expect(tally.tests).toBe(7809);
    expect(tally.requests).toBe(62_472);
    expect(tally.agreed).toBe(tally.requests);
  }, 300_000);
});
