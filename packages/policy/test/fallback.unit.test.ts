import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { compilePolicySet, entitiesFromJson, EntityMap, EntityUid, requestFromJson, toWasmJson, type CedarRecord } from '@livescope/policy';
import { WasmFallback } from '../src/WasmFallback.js';
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

  it('passes Longs beyond 2^53 to cedar-wasm exactly and leaves the global JSON.stringify alone (issue 13)', () => {
    const policies = `
      permit(principal, action, resource) when { principal.max == 9223372036854775807 && principal.min == -9223372036854775808 };
      permit(principal, action, resource) when { context.k == 9007199254740993 && context.k != 9007199254740992 && context.s.contains(-9007199254740993) && context.r.x == 9007199254740995 };
      permit(principal, action, resource) when { principal.getTag("t") == 9223372036854775806 && principal.small == 7 };
      forbid(principal, action, resource) when { principal.max + 1 > 0 };
      forbid(principal, action, resource) when { principal.min - 1 < 0 };
      forbid(principal, action, resource) when { context.k == 9007199254740992 };`;
    const set = compilePolicySet({ policies, fallback: 'all' });
    const e = new EntityMap().set(new EntityUid('U', 'a'), {
      attrs: { max: 9223372036854775807n, min: -9223372036854775808n, small: 7 },
      parents: [],
      tags: { t: 9223372036854775806n },
    });
    const request = {
      principal: new EntityUid('U', 'a'),
      action: new EntityUid('A', 'go'),
      resource: new EntityUid('R', 'r'),
      context: { k: 9007199254740993n, s: new Set([1, -9007199254740993n]), r: { x: 9007199254740995n } },
    };
    const original = JSON.stringify;
    const written: unknown[] = [];
    let replacedDuringCall = false;
    const spy = function (this: unknown, ...args: Parameters<typeof JSON.stringify>): string {
      if (JSON.stringify !== spy) replacedDuringCall = true;
      written.push(args[0]);
      return original.apply(JSON, args);
    } as typeof JSON.stringify;
    JSON.stringify = spy;
    let got;
    try {
      got = set.isAuthorized(request, e);
    } finally {
      JSON.stringify = original;
    }
    expect(replacedDuringCall).toBe(false);
    // cedar-wasm's glue wrote each call's argument with the global function, and never met a bigint.
    expect(written.length).toBe(2);
    expect(written.filter((w) => original(w, (_k, v: unknown) => (typeof v === 'bigint' ? 'BIGINT' : v)).includes('BIGINT'))).toEqual([]);
    expect({ decision: got.decision, reason: [...got.reason].sort(), errors: [...got.errors].sort() }).toEqual({
      decision: 'allow',
      reason: ['policy0', 'policy1', 'policy2'],
      errors: ['policy3', 'policy4'],
    });
    expect(got.errorMessages.join('\n')).toContain('9223372036854775807');
    expect(got.errorMessages.join('\n')).toContain('-9223372036854775808');
    // The compiled evaluator (exact on native values) decides the same.
    const compiled = compilePolicySet({ policies });
    expect(compiled.fallbackPolicyIds).toEqual([]);
    const native = compiled.isAuthorized(request, e);
    expect({ decision: native.decision, reason: [...native.reason].sort(), errors: [...native.errors].sort() }).toEqual({
      decision: got.decision,
      reason: [...got.reason].sort(),
      errors: [...got.errors].sort(),
    });
  });

  it('writes bigints as exact extension escapes and copies only what holds one', () => {
    const plain = { a: [1, 'x', { b: true }] };
    expect(toWasmJson(plain)).toBe(plain);
    const withBig = { a: [1, 9007199254740993n], b: { c: -9223372036854775808n }, d: 'same' };
    const out = toWasmJson(withBig);
    expect(out).toEqual({
      a: [1, { __extn: { fn: 'toMilliseconds', args: [{ __extn: { fn: 'duration', arg: '9007199254740993ms' } }] } }],
      b: { c: { __extn: { fn: 'toMilliseconds', args: [{ __extn: { fn: 'duration', arg: '-9223372036854775808ms' } }] } } },
      d: 'same',
    });
    expect(withBig.a[1]).toBe(9007199254740993n);
    const proto = JSON.parse('{"__proto__": 9007199254740993}') as Record<string, unknown>;
    proto.__proto__ = 9007199254740993n;
    expect(Object.keys(toWasmJson(proto))).toEqual(['__proto__']);
  });

  it('fails closed when cedar-wasm throws instead of answering (data nested beyond its recursion limit)', () => {
    let deep: CedarRecord = { leaf: 1 };
    for (let i = 0; i < 200; i++) deep = { x: deep };
    const set = compilePolicySet({ policies: 'permit(principal, action, resource);', fallback: 'all' });
    const got = set.isAuthorized({ principal: new EntityUid('U', 'a'), action: new EntityUid('A', 'go'), resource: new EntityUid('R', 'r'), context: deep }, new EntityMap());
    expect(got).toMatchObject({ decision: 'deny', reason: [], errors: ['policy0'] });
    expect(got.errorMessages[0]).toMatch(/cedar-wasm/);
    // The compiled evaluator has no such limit.
    expect(compilePolicySet({ policies: 'permit(principal, action, resource);' }).isAuthorized({ principal: new EntityUid('U', 'a'), action: new EntityUid('A', 'go'), resource: new EntityUid('R', 'r'), context: deep }, new EntityMap()).decision).toBe('allow');
  });

  it('frees the preparsed cedar-wasm sets of collected policy sets and reuses their ids', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Finalizers run after a collection, from the event loop.
    const collect = async (): Promise<void> => {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    };
    for (let i = 0; i < 3; i++) await collect(); // sets of the tests before this one
    const before = WasmFallback.freeSetIds;
    (() => {
      for (let i = 0; i < 10; i++) compilePolicySet({ policies: 'permit(principal, action, resource); forbid(principal, action, resource) when { false };', fallback: 'all' });
    })();
    // 10 policy sets of two preparsed sets each (permits, forbids), reused among themselves first.
    const taken = WasmFallback.freeSetIds;
    for (let i = 0; i < 100 && WasmFallback.freeSetIds < taken + 20; i++) await collect();
    expect(WasmFallback.freeSetIds, 'the 20 preparsed sets of 10 collected policy sets were released').toBeGreaterThanOrEqual(taken + 20);
    expect(taken).toBe(Math.max(0, before - 20));
    const free = WasmFallback.freeSetIds;
    const reused = compilePolicySet({ policies: 'permit(principal, action, resource) when { context.ok };', fallback: 'all' });
    expect(WasmFallback.freeSetIds).toBe(free - 1);
    const req = { principal: new EntityUid('U', 'a'), action: new EntityUid('A', 'go'), resource: new EntityUid('R', 'r') };
    // A reused id holds the new set only.
    expect(reused.isAuthorized({ ...req, context: { ok: true } }, new EntityMap())).toMatchObject({ decision: 'allow', reason: ['policy0'] });
    expect(reused.isAuthorized({ ...req, context: { ok: false } }, new EntityMap())).toMatchObject({ decision: 'deny', reason: [], errors: [] });
  });
});
