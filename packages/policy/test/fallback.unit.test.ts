import { describe, expect, it } from 'vitest';
import { compilePolicySet, entitiesFromJson, EntityMap, EntityUid, requestFromJson, type CedarRecord } from '@livescope/policy';
import { oracle } from './oracle.js';
import { CaseGenerator } from './randomCedar.js';

const sameSet = (a: readonly string[], b: readonly string[]): boolean => [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

describe('fallback to cedar-wasm', () => {
  it('decides like cedar-wasm when every policy, or a random part of them, runs on cedar-wasm', () => {
    const seed = Number(process.env.POLICY_FUZZ_SEED ?? 5150);
    const gen = new CaseGenerator(seed);
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const c = gen.next();
      const theirs = oracle(c);
      if (theirs.refused) continue;
      const probe = compilePolicySet({ policies: c.policies, templates: c.templates, links: c.links });
      const some = probe.policies.filter((_, k) => (k + i) % 2 === 0).map((p) => p.id);
      for (const fallback of ['all' as const, some]) {
        const set = compilePolicySet({ policies: c.policies, templates: c.templates, links: c.links, fallback });
        expect(set.fallbackPolicyIds.length).toBe(fallback === 'all' ? set.policies.length : some.length);
        const got = set.isAuthorized(requestFromJson(c), entitiesFromJson(c.entities));
        const same = got.decision === theirs.decision && sameSet(got.reason, theirs.reason) && sameSet(got.errors, theirs.errors);
        expect(same, JSON.stringify({ i, seed, policies: c.policies, got, theirs })).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(400);
  }, 60_000);

  it('sends the entities reachable from the request and from the policy literals, with exact integers', () => {
    const set = compilePolicySet({
      policies: `
        permit(principal, action, resource) when { G::"g".limit == 9223372036854775807 && principal.friend.friend.n == 9007199254740993 };
        forbid(principal, action, resource) when { context.x in G::"top" };`,
      fallback: 'all',
    });
    const e = new EntityMap()
      .set(new EntityUid('U', 'a'), { attrs: { friend: new EntityUid('U', 'b') }, parents: [] })
      .set(new EntityUid('U', 'b'), { attrs: { friend: new EntityUid('U', 'c') }, parents: [] })
      .set(new EntityUid('U', 'c'), { attrs: { n: 9007199254740993n }, parents: [] })
      .set(new EntityUid('G', 'g'), { attrs: { limit: 9223372036854775807n }, parents: [] })
      .set(new EntityUid('G', 'mid'), { attrs: {}, parents: [new EntityUid('G', 'top')] })
      .set(new EntityUid('X', 'x'), { attrs: {}, parents: [new EntityUid('G', 'mid')] });
    const req = { principal: new EntityUid('U', 'a'), action: new EntityUid('A', 'go'), resource: new EntityUid('R', 'r') };
    // The forbid fails (no context.x) and is skipped, as Cedar does.
    expect(set.isAuthorized({ ...req, context: {} }, e)).toMatchObject({ decision: 'allow', reason: ['policy0'], errors: ['policy1'] });
    expect(set.isAuthorized({ ...req, context: { x: new EntityUid('Y', 'y') } }, e)).toMatchObject({ decision: 'allow', reason: ['policy0'], errors: [] });
    expect(set.isAuthorized({ ...req, context: { x: new EntityUid('X', 'x') } }, e)).toMatchObject({ decision: 'deny', reason: ['policy1'] });
    const compiled = compilePolicySet({ policies: set.policies.map((p) => p.text).join('\n') });
    expect(compiled.fallbackPolicyIds).toEqual([]);
    const contexts: CedarRecord[] = [{}, { x: new EntityUid('Y', 'y') }, { x: new EntityUid('X', 'x') }];
    for (const context of contexts) {
      const a = set.isAuthorized({ ...req, context }, e);
      const b = compiled.isAuthorized({ ...req, context }, e);
      expect({ ...b, errorMessages: [] }).toEqual({ ...a, errorMessages: [] });
    }
  });
});
