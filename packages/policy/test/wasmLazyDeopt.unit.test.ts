import { describe, expect, it } from 'vitest';
import { lastJsonLine, runTsChild } from './runChild.js';

/**
 * Issue 13, the root cause of the Node 20 abort on the fallback path, pinned without the corpus:
 * an optimised caller of cedar-wasm lazily deoptimised while the call runs. See `cedarWasm.ts`.
 */
describe('cedar-wasm calls and lazy deoptimisation (issue 13: V8 "unreachable code", exit 133)', () => {
  it('survives a caller deoptimised while its cedar-wasm call is on the stack', async () => {
    const r = await runTsChild('test/wasmLazyDeoptRun.ts', [], 60_000);
    expect({ code: r.code, signal: r.signal }, `child died: ${r.stderr.slice(-3000)}`).toEqual({ code: 0, signal: null });
    expect(lastJsonLine<{ calls: number }>(r).calls).toBe(12_000);
  });

  it('reproduces the abort with the cedar-wasm package called directly, on the V8 that has the bug', async () => {
    const r = await runTsChild('test/wasmLazyDeoptRun.ts', ['--raw'], 60_000);
    const aborted = r.code === 133 || r.signal === 'SIGTRAP';
    console.log(`cedar-wasm called directly on Node ${process.version} (V8 ${process.versions.v8}): ${aborted ? 'aborted (exit 133)' : `exit ${r.code}`}`);
    // V8 11.3 (Node 20) and 12.4 (Node 22) cannot deoptimise an inlined JS-to-Wasm call returning externref; V8 13 (Node 24) can.
    if (Number(process.versions.v8.split('.')[0]) < 13) expect(aborted, r.stderr.slice(-2000)).toBe(true);
    else expect(r.code).toBe(0);
  });
});
