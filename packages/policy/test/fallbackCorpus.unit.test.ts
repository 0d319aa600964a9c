import { describe, expect, it } from 'vitest';
import type { CorpusMismatch } from './corpusHarness.js';
import { lastJsonLine, runTsChild } from './runChild.js';

interface RunReport {
  tests: number;
  requests: number;
  agreed: number;
  policies: number;
  compiled: number;
  fallback: number;
  mismatchCount: number;
  mismatches: CorpusMismatch[];
  ms: number;
}

const SHARDS = 2;

/**
 * Issue 13: the fallback path (`fallback: 'all'`, every policy on cedar-wasm) aborted Node 20 with
 * V8's "unreachable code" (exit code 133) in about half the runs of a few thousand requests. The
 * whole shared corpus runs here in child processes (an abort would kill the test process itself),
 * on this test's own Node binary: Node 24 under `npm test` in CI, Node 22 under scripts/node-compat.sh,
 * which runs this package's unit tests again on Node 22 (whose V8 12.4 has the same bug as Node 20's).
 */
describe('fallback path on the whole Cedar corpus (issue 13: no process abort)', () => {
  it('decides every corpus request as expected with every policy on cedar-wasm, without a crash', async () => {
    const started = performance.now();
    const runs = await Promise.all(
      Array.from({ length: SHARDS }, (_, k) => runTsChild('test/fallbackCorpusRun.ts', ['--shard', `${k}/${SHARDS}`], 280_000)),
    );
    for (const r of runs) {
      expect({ code: r.code, signal: r.signal }, `child died: ${r.stderr.slice(-3000)}`).toEqual({ code: 0, signal: null });
    }
    const reports = runs.map((r) => lastJsonLine<RunReport>(r));
    const sum = (f: (r: RunReport) => number): number => reports.reduce((a, r) => a + f(r), 0);
    const total = { tests: sum((r) => r.tests), requests: sum((r) => r.requests), agreed: sum((r) => r.agreed), policies: sum((r) => r.policies), compiled: sum((r) => r.compiled) };
    console.log(
      `fallback corpus on Node ${process.version}: ${total.agreed}/${total.requests} requests as expected over ${total.tests} tests, ` +
        `all ${total.policies} policies on cedar-wasm; ${SHARDS} processes, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(reports.flatMap((r) => r.mismatches)).toEqual([]);
    expect(sum((r) => r.mismatchCount)).toBe(0);
    // 22 hand-written tests (74 requests) and the 7,809 of corpus-tests.tar.gz (62,472 requests).
    expect(total.tests).toBe(22 + 7809);
    expect(total.requests).toBe(74 + 62_472);
    expect(total.agreed).toBe(total.requests);
    expect(total.compiled).toBe(0);
  }, 300_000);
});
