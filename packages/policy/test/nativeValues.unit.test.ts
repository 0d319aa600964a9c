import { describe, expect, it } from 'vitest';
import { compilePolicySet, Datetime, Decimal, EntityMap, EntityUid, IpAddr, type EntityStore } from '@livescope/policy';

const P = new EntityUid('Livescope::Identity', 'p');
const A = new EntityUid('Livescope::Action', 'db:write');
const R = new EntityUid('Livescope::Resource', 'r');

describe('native values on the fast path', () => {
  const set = compilePolicySet({
    policies: `
      permit(principal, action, resource) when {
        context.tags.contains("x") && context.tags.containsAll(["x", "y"]) && context.s == ["y", "x", "x"] &&
        context.rec.ip.isInRange(ip("10.0.0.0/8")) && context.rec.limit.lessThan(decimal("2.5")) &&
        context.now < datetime("2030-01-01") && principal in Livescope::Role::"top"
      };`,
  });

  it('takes JS Sets or arrays for sets, plain objects for records, extension classes for extension values', () => {
    const entities = new EntityMap()
      .set(P, { attrs: {}, parents: [new EntityUid('Livescope::Role', 'mid')] })
      .set(new EntityUid('Livescope::Role', 'mid'), { attrs: {}, parents: [new EntityUid('Livescope::Role', 'top')] });
    const context = {
      tags: new Set(['x', 'y']),
      s: ['x', 'y'],
      rec: { ip: IpAddr.parse('10.1.2.3'), limit: Decimal.parse('1.25') },
      now: Datetime.fromEpochMs(Date.UTC(2026, 0, 1)),
    };
    expect(set.isAuthorized({ principal: P, action: A, resource: R, context }, entities)).toEqual({ decision: 'allow', reason: ['policy0'], errors: [], errorMessages: [] });
    expect(set.isAuthorized({ principal: P, action: A, resource: R, context: { ...context, tags: ['y'] } }, entities).decision).toBe('deny');
  });

  it('a store of its own (no ancestor cache) and a cyclic hierarchy still answer', () => {
    const store: EntityStore = {
      get: (u) =>
        u.type === 'Livescope::Role'
          ? { attrs: {}, parents: [new EntityUid('Livescope::Role', u.id === 'a' ? 'b' : 'a')] }
          : u.equals(P)
            ? { attrs: {}, parents: [new EntityUid('Livescope::Role', 'a')] }
            : undefined,
    };
    const s = compilePolicySet({ policies: 'permit(principal in Livescope::Role::"b", action, resource); permit(principal in Livescope::Role::"c", action, resource);' });
    expect(s.isAuthorized({ principal: P, action: A, resource: R }, store)).toMatchObject({ decision: 'allow', reason: ['policy0'] });
  });

  it('reports evaluation errors with messages, and never lets an errored forbid allow by accident of order', () => {
    const s = compilePolicySet({ policies: 'permit(principal, action, resource); forbid(principal, action, resource) when { principal.missing };' });
    const r = s.isAuthorized({ principal: P, action: A, resource: R }, new EntityMap());
    expect(r).toMatchObject({ decision: 'allow', reason: ['policy0'], errors: ['policy1'] });
    expect(r.errorMessages[0]).toMatch(/does not exist/);
  });

  it('an attribute named like an Object.prototype member is only found when present', () => {
    const s = compilePolicySet({ policies: 'permit(principal, action, resource) when { context has toString || context has __proto__ };' });
    expect(s.isAuthorized({ principal: P, action: A, resource: R, context: {} }, new EntityMap()).decision).toBe('deny');
  });
});
