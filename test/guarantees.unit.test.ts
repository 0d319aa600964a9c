import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/guarantees.md names, for every claim, the tests that prove it: `path/to/file.test.ts` —
 * "test name". This test fails when a named file or test no longer exists (issue 13, item 9).
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const doc = readFileSync(`${root}docs/guarantees.md`, 'utf8');
const REFERENCE = /`([\w./-]+\.test\.ts)` — "([^"]+)"/g;

const references = [...doc.matchAll(REFERENCE)].map((m) => ({ file: m[1]!, name: m[2]! }));

/** The names a test file gives its tests (it / describe titles in single or double quotes, or backticks without interpolation). */
function testNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/\b(?:it|test|describe)(?:\.\w+)?\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)) out.add(m[2]!.replace(/\\(.)/g, '$1'));
  return out;
}

describe('docs/guarantees.md', () => {
  it('names tests for its claims', () => {
    expect(references.length).toBeGreaterThanOrEqual(20);
  });

  it.each(references.map((r) => [r.file, r.name] as const))('%s has a test named "%s"', (file, name) => {
    expect(existsSync(`${root}${file}`), `${file} does not exist`).toBe(true);
    expect([...testNames(readFileSync(`${root}${file}`, 'utf8'))]).toContain(name);
  });
});
