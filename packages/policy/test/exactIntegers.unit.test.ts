import { describe, expect, it } from 'vitest';
import { compilePolicySet, entitiesFromJson, EntityMap, EntityUid, parseExactJson, requestFromJson, toLong } from '@livescope/policy';
import { oracle } from './oracle.js';

const entitiesText = `[
  { "uid": { "type": "U", "id": "a" }, "attrs": { "max": 9223372036854775807, "almost": 9223372036854775806, "odd": 9007199254740993, "min": -9223372036854775808 }, "parents": [] }
]`;

const policies = [
  'principal.max == 9223372036854775807',
  'principal.almost < 9223372036854775807',
  'principal.almost == 9223372036854775807',
  'principal.odd == 9007199254740992',
  'principal.odd == 9007199254740993',
  'principal.min == -9223372036854775808',
  'principal.min < -9223372036854775807',
  'principal.max + 1 > 0',
  'principal.min - 1 < 0',
  'principal.max * 2 > 0',
  '-principal.min > 0',
  'principal.odd * 1000 == 9007199254740993000',
  'context.n == 18446744073709551 * 500',
  '9007199254740993 - 1 == 9007199254740992',
  '{ k: 9223372036854775807, j: 9223372036854775806 }.j < { j: 9223372036854775807 }.j',
]
  .map((c) => `permit(principal, action, resource) when { ${c} };`)
  .join('\n');

describe('exact 64-bit integers', () => {
  it('keeps big integer literals and data exact, and overflow is an error, as cedar-wasm', () => {
    const entities = parseExactJson(entitiesText);
    const c = {
      policies,
      templates: {},
      links: [],
      entities: entities as never,
      principal: { type: 'U', id: 'a' },
      action: { type: 'A', id: 'x' },
      resource: { type: 'R', id: 'r' },
      context: { n: 9223372036854775500n } as never,
    };
    const theirs = oracle(c);
    const set = compilePolicySet({ policies });
    expect(set.fallbackPolicyIds).toEqual([]);
    const got = set.isAuthorized(requestFromJson(c), entitiesFromJson(entities));
    expect(theirs.refused).toBe(false);
    if (theirs.refused) return;
    expect([...got.reason].sort()).toEqual([...theirs.reason].sort());
    expect([...got.errors].sort()).toEqual([...theirs.errors].sort());
    // What the answers are, so a regression that agrees with a broken oracle still shows up.
    expect([...got.reason].sort()).toEqual(['policy0', 'policy1', 'policy11', 'policy12', 'policy13', 'policy14', 'policy4', 'policy5', 'policy6']);
    expect([...got.errors].sort()).toEqual(['policy10', 'policy7', 'policy8', 'policy9']);
    expect(got.errorMessages.join(' ')).toMatch(/overflow/);
  });

  it('parseExactJson: bigints beyond 2^53 only, plain numbers otherwise, __proto__ stays data', () => {
    const v = parseExactJson('{"a": 9007199254740991, "b": 9007199254740993, "c": -12345678901234567890, "d": 1.5, "__proto__": {"x": 1}, "s": "9999999999999999"}') as Record<string, unknown>;
    expect(v.a).toBe(9007199254740991);
    expect(v.b).toBe(9007199254740993n);
    expect(v.c).toBe(-12345678901234567890n);
    expect(v.d).toBe(1.5);
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(v.s).toBe('9999999999999999');
  });

  it('native values: a bigint within 2^53 or a Long out of range is normalised or refused', () => {
    expect(toLong(5n)).toBe(5);
    expect(toLong(2n ** 60n)).toBe(2n ** 60n);
    expect(() => toLong(2n ** 63n)).toThrow(RangeError);
    const set = compilePolicySet({ policies: 'permit(principal, action, resource) when { principal.n == 5 && [5].contains(principal.n) };' });
    const e = new EntityMap().set(new EntityUid('U', 'a'), { attrs: { n: 5n }, parents: [] });
    // Even a caller that hands a non-normal bigint gets Cedar equality.
    expect(set.isAuthorized({ principal: new EntityUid('U', 'a'), action: new EntityUid('A', 'x'), resource: new EntityUid('R', 'r') }, e).decision).toBe('allow');
  });
});
