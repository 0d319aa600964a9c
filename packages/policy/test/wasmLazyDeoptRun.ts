/**
 * Child-process entry of `wasmLazyDeopt.unit.test.ts`: the smallest reproduction of the Node 20
 * abort of issue 13. A hot function calls cedar-wasm and reads state whose field representation
 * changes while the call is on the stack (here from the argument's `toJSON`, which cedar-wasm's
 * glue runs through `JSON.stringify`; in the fallback it was `JSON.parse` building an answer of a
 * new shape). With the call inlined into the optimised caller, V8 11.3 cannot deoptimise it and
 * aborts ("unreachable code", exit code 133). Through `cedarWasm` (the Proxy door) it runs to the end.
 *
 *   node --import tsx --conditions=livescope-source test/wasmLazyDeoptRun.ts [--raw]
 *
 * `--raw` calls the cedar-wasm package directly (the reproduction; aborts on Node 20).
 */
import * as raw from '@cedar-policy/cedar-wasm/nodejs';
import { cedarWasm } from '@livescope/policy';

const wasm = process.argv.includes('--raw') ? raw : cedarWasm;
const calls = 12_000;
wasm.preparsePolicySet('lazy-deopt-run', { staticPolicies: 'permit(principal, action, resource);' });

// Optimised code reading `state.v` relies on the map of `state` staying as it is; every 1,000 calls
// after a warm-up a property is added to `state` (a new map) from inside the call.
const state: Record<string, number> = { v: 1 };
const base = {
  principal: { type: 'U', id: 'a' },
  action: { type: 'A', id: 'a' },
  resource: { type: 'R', id: 'r' },
  context: {},
  entities: [],
  preparsedPolicySetId: 'lazy-deopt-run',
};

function request(i: number): typeof base {
  const turn = i >= 2_000 && i % 1_000 === 500;
  return {
    ...base,
    toJSON(): typeof base {
      if (turn) state[`p${i}`] = i;
      return base;
    },
  } as typeof base;
}

function decide(call: typeof base): number {
  const sum = state.v as number;
  const answer = wasm.statefulIsAuthorized(call);
  if (answer.type !== 'success') throw new Error(answer.errors.map((e) => e.message).join('; '));
  return (answer.response.decision === 'allow' ? 1 : 0) + sum;
}

let total = 0;
for (let i = 0; i < calls; i++) total += decide(request(i));
console.log(JSON.stringify({ calls, total }));
