import { describe, expect, it } from 'vitest';
import { compilePolicySet, entitiesFromJson, requestFromJson } from '@livescope/policy';
import { oracle } from './oracle.js';
import { CaseGenerator, type RandomCase } from './randomCedar.js';

/**
 * Random policy sets, entities and contexts, decided by the compiled evaluator and by cedar-wasm.
 * Reproduce a run with POLICY_FUZZ_SEED=<seed> (and POLICY_FUZZ_CASES=<n>).
 */
const seed = Number(process.env.POLICY_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const cases = Number(process.env.POLICY_FUZZ_CASES ?? 2000);

const sameSet = (a: readonly string[], b: readonly string[]): boolean => [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

function ours(c: RandomCase): { refused: true; message: string } | { refused: false; decision: string; reason: string[]; errors: string[] } {
  const compiled = compilePolicySet({ policies: c.policies, templates: c.templates, links: c.links });
  let request;
  let entities;
  try {
    entities = entitiesFromJson(c.entities);
    request = requestFromJson({ principal: c.principal, action: c.action, resource: c.resource, context: c.context });
  } catch (e) {
    return { refused: true, message: (e as Error).message };
  }
  const r = compiled.isAuthorized(request, entities);
  return { refused: false, decision: r.decision, reason: r.reason, errors: r.errors };
}

describe('random differential test against cedar-wasm', () => {
  it(`agrees on ${cases} random cases (seed ${seed})`, () => {
    const gen = new CaseGenerator(seed);
    let agreed = 0;
    let refusedBoth = 0;
    let withErrors = 0;
    let allows = 0;
    let policies = 0;
    let fallback = 0;
    const mismatches: unknown[] = [];
    for (let i = 0; i < cases; i++) {
      const c = gen.next();
      let mine;
      try {
        mine = ours(c);
        const compiled = compilePolicySet({ policies: c.policies, templates: c.templates, links: c.links });
        policies += compiled.policies.length;
        fallback += compiled.fallbackPolicyIds.length;
      } catch (e) {
        mine = { refused: true as const, message: `compile: ${(e as Error).message}` };
      }
      const theirs = oracle(c);
      const same =
        mine.refused === theirs.refused &&
        (mine.refused || theirs.refused || (mine.decision === theirs.decision && sameSet(mine.reason, theirs.reason) && sameSet(mine.errors, theirs.errors)));
      if (same) {
        agreed++;
        if (theirs.refused) refusedBoth++;
        else {
          if (theirs.errors.length > 0) withErrors++;
          if (theirs.decision === 'allow') allows++;
        }
      } else if (mismatches.length < 5) {
        mismatches.push({ case: i, policies: c.policies, templates: c.templates, links: c.links, context: c.context, principal: c.principal, resource: c.resource, action: c.action, mine, theirs });
      }
    }
    console.log(
      `random differential: seed ${seed}: ${agreed}/${cases} cases agree with cedar-wasm isAuthorized ` +
        `(${allows} allow, ${withErrors} with policy errors, ${refusedBoth} refused by both); policies ${policies}: ${policies - fallback} compiled, ${fallback} fallback. ` +
        `Reproduce with POLICY_FUZZ_SEED=${seed}`,
    );
    expect(mismatches, JSON.stringify(mismatches, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v), 1).slice(0, 6000)).toEqual([]);
  }, 300_000);
});
