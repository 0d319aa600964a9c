import { describe, expect, it } from 'vitest';
import { compilePolicySet, Datetime, livescopeSchemaText, type AuthorizationRequest } from '@livescope/policy';
import { action, examplePolicies, identity, livescopeContext, livescopeEntities, resource, wasmDecision } from './livescopeFixture.js';
import { prng } from './randomCedar.js';

const H = 3_600_000;
const day = (d: number, h = 0, m = 0): number => Date.UTC(2026, 0, d, h, m);
const entities = livescopeEntities({ id: 'w' }, [{ id: 'db', type: 'db', system: 'pg' }]);
const request = (act: string, nowMs: number): AuthorizationRequest => ({ principal: identity('w'), action: action(act), resource: resource('db'), context: livescopeContext({ nowMs }) });

describe('validity horizon', () => {
  const seed = compilePolicySet({ policies: examplePolicies(), schema: livescopeSchemaText });

  it('business hours: the next 09:00 or 17:00 UTC', () => {
    expect(seed.horizon(request('db:write', day(15, 8)), entities, day(15, 8))).toBe(day(15, 9));
    expect(seed.horizon(request('db:write', day(15, 10)), entities, day(15, 10))).toBe(day(15, 17));
    expect(seed.horizon(request('db:write', day(15, 18)), entities, day(15, 18))).toBe(day(16, 9));
    expect(seed.horizon(request('db:write', day(15, 16, 59)), entities, day(15, 16, 59) + 59_999)).toBe(day(15, 17));
  });

  it('is null when the decision does not depend on time', () => {
    expect(seed.horizon(request('db:read', day(15, 10)), entities, day(15, 10))).toBeNull();
    expect(compilePolicySet({ policies: 'permit(principal, action, resource);' }).horizon(request('db:read', 0), entities, day(15))).toBeNull();
  });

  it('absolute instants, offsets and durations since a timestamp', () => {
    const set = compilePolicySet({
      policies: `
        permit(principal, action == Livescope::Action::"db:read", resource) when { context.now < datetime("2026-01-20T10:00:00Z") };
        permit(principal, action == Livescope::Action::"db:write", resource) when { context.now.offset(duration("2h")) <= datetime("2026-01-20T10:00:00Z") };
        permit(principal, action == Livescope::Action::"vault:read", resource) when { context.now.durationSince(datetime("2026-01-15T10:00:00Z")) < duration("5m") };
        permit(principal, action == Livescope::Action::"k8s:read", resource) when { datetime("2026-01-18").durationSince(context.now).toHours() >= 1 };
        permit(principal, action == Livescope::Action::"tickets:read", resource) when { context.now.toDate() == datetime("2026-01-15") };`,
    });
    const now = day(15, 10);
    expect(set.horizon(request('db:read', now), entities, now)).toBe(Date.UTC(2026, 0, 20, 10));
    expect(set.horizon(request('db:write', now), entities, now)).toBe(Date.UTC(2026, 0, 20, 8) + 1);
    expect(set.horizon(request('vault:read', now), entities, now)).toBe(now + 5 * 60_000);
    expect(set.horizon(request('k8s:read', now), entities, now)).toBe(day(18) - H + 1);
    expect(set.horizon(request('tickets:read', now), entities, now)).toBe(day(16));
  });

  it('is the next millisecond when time is used in a form it does not analyse', () => {
    const set = compilePolicySet({ policies: 'permit(principal, action, resource) when { [context.now].contains(datetime("2026-01-15")) };' });
    expect(set.horizon(request('db:read', day(15)), entities, day(15))).toBe(day(15) + 1);
  });

  it('is exact on random time-dependent policy sets (checked with cedar-wasm)', () => {
    const seedValue = Number(process.env.POLICY_FUZZ_SEED ?? 4242);
    const r = prng(seedValue);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    const iso = (ms: number): string => new Date(ms).toISOString();
    const atom = (now: number): string => {
      const t = now + Math.floor((r() - 0.3) * 72 * H);
      const op = pick(['<', '<=', '>', '>=', '==', '!=']);
      return pick([
        `context.now ${op} datetime("${iso(t)}")`,
        `datetime("${iso(t)}") ${op} context.now`,
        `context.now.offset(duration("${Math.floor(r() * 90)}m")) ${op} datetime("${iso(t)}")`,
        `context.now.toTime() ${op} duration("${Math.floor(r() * 24)}h${Math.floor(r() * 60)}m")`,
        `context.now.toTime().toHours() ${op} ${Math.floor(r() * 24)}`,
        `context.now.durationSince(datetime("${iso(t - 48 * H)}")).toMinutes() ${op} ${Math.floor(r() * 4000)}`,
        `context.now.toDate() ${op} datetime("${iso(t).slice(0, 10)}")`,
        `context.session.active`,
      ]);
    };
    let checked = 0;
    let finite = 0;
    for (let i = 0; i < 150; i++) {
      const now = day(15) + Math.floor(r() * 48 * H);
      const n = 1 + Math.floor(r() * 3);
      const text = Array.from({ length: n }, (_, k) => {
        const conds = Array.from({ length: 1 + Math.floor(r() * 2) }, () => `${pick(['when', 'unless'])} { ${atom(now)} ${pick(['&&', '||'])} ${atom(now)} }`).join(' ');
        return `${k === 0 || r() < 0.5 ? 'permit' : 'forbid'}(principal, action, resource) ${conds};`;
      }).join('\n');
      const set = compilePolicySet({ policies: text });
      const policies = set.policies.map((p) => ({ id: p.id, text: p.text }));
      const at = (t: number): string => wasmDecision(policies, request('db:read', t), entities).decision;
      const h = set.horizon(request('db:read', now), entities, now);
      const base = at(now);
      // Unchanged before the horizon (sampled, and just before it)…
      const end = h ?? now + 10 * 24 * H;
      for (const t of [now + 1, end - 1, ...Array.from({ length: 6 }, () => now + 1 + Math.floor(r() * (end - now - 1)))]) {
        if (t > now && t < end) expect(at(t), `${text}\nnow=${iso(now)} h=${h === null ? null : iso(h)} t=${iso(t)}`).toBe(base);
      }
      // …and changed at it: the horizon is exact for these forms.
      if (h !== null) {
        finite++;
        expect(at(h), `${text}\nnow=${iso(now)} h=${iso(h)}`).not.toBe(base);
      }
      checked++;
    }
    console.log(`horizon: ${checked} random time-dependent sets checked against cedar-wasm (seed ${seedValue}); ${finite} finite horizons, all exact`);
    expect(Datetime.fromEpochMs(0).ms).toBe(0);
  }, 60_000);
});
