import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_ROOT, directoryReader, emptyTally, runCorpusTest, summarize } from './corpusHarness.js';

/**
 * Differential test against the expectations of cedar-integration-tests (all produced by the
 * Rust reference and matched by cedar-wasm 4.13 on every request).
 */
describe('cedar corpus', () => {
  const read = directoryReader(CORPUS_ROOT);

  it('agrees on every hand-written test (tests/**)', () => {
    const tally = emptyTally();
    for (const dir of readdirSync(join(CORPUS_ROOT, 'tests'))) {
      for (const f of readdirSync(join(CORPUS_ROOT, 'tests', dir)).filter((n) => n.endsWith('.json'))) runCorpusTest(read, `tests/${dir}/${f}`, tally);
    }
    console.log(summarize('hand-written corpus', tally));
    expect(tally.mismatches.slice(0, 5)).toEqual([]);
    expect(tally.tests).toBe(22);
    expect(tally.agreed).toBe(74);
  });

  it('agrees on every request of the 600-test sample (corpus-tests/)', () => {
    const tally = emptyTally();
    const started = performance.now();
    const files = readdirSync(join(CORPUS_ROOT, 'corpus-tests')).filter((n) => n.endsWith('.json') && !n.endsWith('.entities.json'));
    for (const f of files) runCorpusTest(read, `corpus-tests/${f}`, tally);
    console.log(summarize('corpus sample', tally, performance.now() - started));
    if (tally.fallbackReasons.length > 0) console.log(`fallback policies:\n${tally.fallbackReasons.slice(0, 20).join('\n')}`);
    expect(tally.mismatches.slice(0, 5)).toEqual([]);
    expect(tally.tests).toBe(600);
    expect(tally.agreed).toBe(tally.requests);
    expect(tally.fallback).toBe(0);
  }, 120_000);
});
