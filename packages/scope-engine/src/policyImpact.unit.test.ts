import { readdirSync, readFileSync } from 'node:fs';
import { broadcastEvent, type Permission } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { compileScopePolicy } from './cedarScopePolicy.js';
import { defaultEngineConfig } from './EngineConfig.js';
import { decisionsDiffer, ImpactAccumulator, identityImpact } from './policyImpact.js';
import { randomPolicyEdit, seededRandom, type EditVocabulary } from './policyEdits.js';
import type { PolicyFileText } from './policySetDiff.js';
import { ev, MIN, nextId, perm, run, T0 } from './testing/fixtures.js';

const dir = new URL('../../../examples/policies/', import.meta.url);
const exampleFiles: PolicyFileText[] = readdirSync(dir)
  .filter((f) => f.endsWith('.cedar'))
  .sort()
  .map((f) => ({ id: f.replace(/\.cedar$/, ''), text: readFileSync(new URL(f, dir), 'utf8') }));

const vocabulary: EditVocabulary = {
  actions: ['k8s:read', 'k8s:deploy', 'db:read', 'db:write', 'secrets:read', 'vault:read', 'tickets:read', 'tickets:write', 'tool:invoke', 'db:admin'],
  namespaces: ['payments', 'checkout', 'support', 'platform'],
  roles: ['reader', 'deployer', 'dba', 'support', 'ops'],
  kinds: ['agent', 'workload', 'service-account', 'ci-job'],
  labels: [
    ['team', 'red'],
    ['team', 'blue'],
    ['tier', 'gold'],
  ],
};

const ACCESS: Record<string, Permission['access']> = { 'k8s:read': 'read', 'k8s:deploy': 'write', 'db:read': 'read', 'db:write': 'write', 'secrets:read': 'read', 'vault:read': 'read', 'tickets:read': 'read', 'tickets:write': 'write', 'tool:invoke': 'write', 'db:admin': 'admin' };

const publish = (files: readonly PolicyFileText[], version: number, at: number) => broadcastEvent('policies.published', { version, policies: [...files], publishedBy: 'test' }, { id: nextId(), time: at });

/** A seeded fleet with roles, just-in-time grants, sessions, approvals and risk, under the example policies. */
function fleet(seed: number, size: number) {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const engine = run(undefined, { compilePolicies: compileScopePolicy });
  expect(engine.send(publish(exampleFiles, 1, T0)).status).toBe('applied');
  let t = T0 + 1;
  for (let i = 0; i < size; i++) {
    const id = `id-${i}`;
    const ns = pick(vocabulary.namespaces);
    const [k, v] = pick(vocabulary.labels);
    engine.send(ev.created(id, t++, { kind: pick(vocabulary.kinds) as 'agent', namespace: ns, labels: { [k]: v } }));
    const roles = 1 + Math.floor(r() * 2);
    for (let g = 0; g < roles; g++) {
      const perms = Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
        const a = pick(vocabulary.actions);
        const rns = pick(vocabulary.namespaces);
        return perm(a, `${a.split(':')[0]}/${rns}/${Math.floor(r() * 3)}`, ACCESS[a], { namespace: rns });
      });
      engine.send(ev.granted(id, `g-${i}-${g}`, pick(vocabulary.roles), perms, t++));
    }
    if (r() < 0.4) engine.send(ev.session(id, `s-${i}`, t++, { task: 'work' }));
    if (r() < 0.2) engine.send(ev.jit(id, `j-${i}`, [perm('vault:read', `vault/${ns}`, 'read', { namespace: ns })], T0 + 600 * MIN, t++, r() < 0.5 && r() < 0.4 ? `s-${i}` : undefined));
    if (r() < 0.2) engine.send(ev.approval(id, pick(['secret-retrieval', 'db:write', 'k8s:deploy']), T0 + 600 * MIN, t++));
  }
  return { engine, t };
}

describe('policy impact', () => {
  it('predicts, identity by identity, the permissions the engine adds and removes when a set is published (seeded random edits)', () => {
    const seed = Number(process.env.IMPACT_SEED ?? 20261207);
    const { engine, t: t0 } = fleet(seed, 150);
    const r = seededRandom(seed + 1);
    let files: readonly PolicyFileText[] = exampleFiles;
    let t = t0 + MIN;
    let changedSeen = 0;
    let lostEverything = 0;
    for (let n = 1; n <= 25; n++) {
      const edit = randomPolicyEdit(r, files, vocabulary, n);
      const after = compileScopePolicy(edit.files, n + 1);
      const acc = new ImpactAccumulator({ maxIdentities: 10_000 });
      const reference = new ImpactAccumulator({ maxIdentities: 10_000 });
      for (const s of engine.engine.allIdentities()) {
        acc.add(s, engine.engine.globals, engine.engine.policy, after, t);
        reference.addComputed(s, identityImpact(s, engine.engine.globals, engine.engine.policy, after, t, defaultEngineConfig));
      }
      const report = acc.report();
      // The fast path (decisions where a changed policy applies) equals the reference (computeScope twice, every identity).
      expect(report.identities, `edit ${n}: fast path vs computeScope`).toEqual(reference.report().identities);
      expect(report.totals).toEqual(reference.report().totals);
      const result = engine.send(publish(edit.files, n + 1, t));
      expect(result.status, edit.description).toBe('applied');
      const observed = new Map<string, { gained: string[]; lost: string[] }>();
      for (const c of engine.out.changes) {
        if (c.added.length === 0 && c.removed.length === 0) continue;
        observed.set(c.identityId, { gained: c.added.map((p) => `${p.action} ${p.resource}`).sort(), lost: c.removed.map((p) => `${p.action} ${p.resource}`).sort() });
      }
      const predicted = new Map(
        report.identities
          .filter((i) => i.gained.length + i.lost.length > 0)
          .map((i) => [i.identityId, { gained: i.gained.map((p) => `${p.action} ${p.resource}`).sort(), lost: i.lost.map((p) => `${p.action} ${p.resource}`).sort() }]),
      );
      expect(predicted, `edit ${n}: ${edit.description}`).toEqual(observed);
      expect(report.totals.changed).toBeGreaterThanOrEqual(predicted.size);
      changedSeen += observed.size;
      lostEverything += report.totals.losingEverything;
      files = edit.files;
      t += MIN;
    }
    // The edits must have moved the fleet, or the comparison above proves nothing.
    expect(changedSeen).toBeGreaterThan(50);
    expect(lostEverything).toBeGreaterThanOrEqual(0);
  });

  it('counts by namespace and kind, ranks those losing everything first, and keeps the list bounded', () => {
    const { engine, t } = fleet(7, 120);
    const denyAll = compileScopePolicy([{ id: 'nothing', text: 'forbid (principal, action, resource);' }, ...exampleFiles], 2);
    const acc = new ImpactAccumulator({ maxIdentities: 10 });
    for (const s of engine.engine.allIdentities()) acc.add(s, engine.engine.globals, engine.engine.policy, denyAll, t);
    const report = acc.report();
    expect(report.scanned).toBe(120);
    expect(report.identities).toHaveLength(10);
    expect(report.identitiesTruncated).toBe(true);
    expect(report.identities.every((i) => i.losesEverything && i.after === 0 && i.gained.length === 0)).toBe(true);
    const holding = [...engine.engine.allIdentities()].filter((s) => s.scope.length > 0);
    expect(report.totals.losingEverything).toBe(holding.length);
    expect(report.totals.lost).toBe(holding.reduce((n, s) => n + s.scope.length, 0));
    expect(report.byNamespace.reduce((n, g) => n + g.identities, 0)).toBe(120);
    expect(report.byKind.reduce((n, g) => n + g.losingEverything, 0)).toBe(holding.length);
    expect(report.pairs.every((p) => p.gained === 0 && p.lost > 0)).toBe(true);
  });

  it('an unchanged decision everywhere means no change, and a comment-only edit computes nothing', () => {
    const { engine, t } = fleet(11, 40);
    const same = compileScopePolicy(exampleFiles.map((f) => ({ id: f.id, text: `// reviewed\n${f.text}` })), 2);
    for (const s of engine.engine.allIdentities()) expect(decisionsDiffer(s, engine.engine.globals, engine.engine.policy, same, t)).toBe(false);
    const acc = new ImpactAccumulator();
    for (const s of engine.engine.allIdentities()) acc.add(s, engine.engine.globals, engine.engine.policy, same, t);
    expect(acc.report()).toMatchObject({ scanned: 40, computed: 0, totals: { changed: 0 } });
  });
});

describe('a modified policy: the identities its old scope reached are recomputed too', () => {
  // Regression: the engine looked only at the new text's scope hint, so a policy moved from one
  // role (or action) to another left the identities of the old one with their old scope — a missed
  // narrowing here — while the impact (and the decisions) said otherwise. Found by the prediction e2e test.
  it('moving a permit from role a to role b narrows the holders of role a', () => {
    const r = run(undefined, { compilePolicies: compileScopePolicy });
    const permitFor = (role: string) => [{ id: 'p', text: `permit (principal in Livescope::Role::"${role}", action, resource);` }];
    expect(r.send(publish(permitFor('a'), 1, T0)).status).toBe('applied');
    r.send(ev.created('x', T0 + 1));
    r.send(ev.granted('x', 'g', 'a', [perm('db:read', 'db/x')], T0 + 2));
    expect(r.scopeOf('x')).toEqual(['db:read db/x']);
    const after = compileScopePolicy(permitFor('b'), 2);
    const acc = new ImpactAccumulator();
    acc.add(r.engine.identity('x')!, r.engine.globals, r.engine.policy, after, T0 + 3);
    expect(acc.report().identities.map((i) => [i.identityId, i.lost.length])).toEqual([['x', 1]]);
    expect(r.send(publish(permitFor('b'), 2, T0 + 3)).status).toBe('applied');
    expect(r.scopeOf('x')).toEqual([]);
  });

  it('moving a forbid from one action to another gives the first action back', () => {
    const r = run(undefined, { compilePolicies: compileScopePolicy });
    const set = (action: string) => [{ id: 'base', text: 'permit (principal, action, resource);' }, { id: 'f', text: `forbid (principal, action == Livescope::Action::"${action}", resource);` }];
    expect(r.send(publish(set('db:write'), 1, T0)).status).toBe('applied');
    r.send(ev.created('y', T0 + 1));
    r.send(ev.granted('y', 'g', 'w', [perm('db:write', 'db/y', 'write')], T0 + 2));
    expect(r.scopeOf('y')).toEqual([]);
    expect(r.send(publish(set('tickets:read'), 2, T0 + 3)).status).toBe('applied');
    expect(r.scopeOf('y')).toEqual(['db:write db/y']);
  });
});
