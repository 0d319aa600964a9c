import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityEvent } from '@livescope/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliHarness } from './support/CliHarness.js';

/**
 * Issue 18 with the CLI alone, over the real pipeline: validate and test the example repository,
 * see the impact of a change on the fleet, publish it and wait until every partition applied it,
 * see it in the history, and roll it back.
 */
const h = new CliHarness();
const examples = fileURLToPath(new URL('../../../examples/policies/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'livescope-policy-int-'));
const T = Date.now();
let approver: string;
let soc: string;
let ids: { ci: string; pay: string };

beforeAll(async () => {
  await h.open();
  ids = { ci: `ci-${h.fx.id}`, pay: `pay-${h.fx.id}` };
  approver = await h.token(['approver'], 'carol');
  soc = await h.token(['soc'], 'sam');
  await h.publish([
    identityEvent('identity.created', ids.ci, { kind: 'ci-job', name: 'ci', namespace: 'payments', owner: 'team-pay' }, { id: `${ids.ci}/1`, time: T }),
    identityEvent('entitlement.granted', ids.ci, { grantId: 'g', role: 'builder', permissions: [{ action: 'k8s:read', resource: 'k8s/payments', access: 'read', namespace: 'payments' }] }, { id: `${ids.ci}/2`, time: T }),
    identityEvent('identity.created', ids.pay, { kind: 'workload', name: 'pay', namespace: 'payments', owner: 'team-pay' }, { id: `${ids.pay}/1`, time: T }),
    identityEvent('entitlement.granted', ids.pay, { grantId: 'g', role: 'db', permissions: [{ action: 'db:read', resource: 'db/payments', access: 'read', namespace: 'payments' }] }, { id: `${ids.pay}/2`, time: T }),
  ]);
  await h.scopeWhere(ids.ci, (s) => s.permissions.length === 1);
  await h.scopeWhere(ids.pay, (s) => s.permissions.length === 1);
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await h.close();
});

describe('livescope policy against the control plane', () => {
  it('validate, test, impact, publish --wait, history, rollback --wait', async () => {
    expect((await h.cli(['policy', 'validate', examples], undefined)).code).toBe(0);
    expect((await h.cli(['policy', 'test', examples], undefined)).code).toBe(0);

    const first = await h.cli(['policy', 'publish', examples, '--reason', 'initial set', '--wait', '--timeout', '60s'], approver);
    expect(first.stderr).toMatch(/applied by 3\/3 partitions · complete/);
    expect(first.code).toBe(0);
    const v1 = Number(/published version (\d+)/.exec(first.stdout)?.[1]);
    expect(v1).toBeGreaterThan(0);
    // Idempotent: the same content again publishes nothing.
    const again = await h.cli(['policy', 'publish', examples], approver);
    expect(again.stdout).toMatch(new RegExp(`unchanged: version ${v1} in force already has this content`));

    // The change: CI jobs lose everything.
    const dir = join(tmp, 'no-ci');
    cpSync(examples, dir, { recursive: true });
    writeFileSync(join(dir, 'no-ci.cedar'), '@id("no-ci")\nforbid (principal, action, resource)\nwhen { principal.kind == "ci-job" };\n');
    const impact = await h.cli(['policy', 'impact', dir], soc);
    expect(impact.code).toBe(0);
    expect(impact.stdout).toMatch(/2 identities scanned: 1 would change — 1 narrowed, 0 widened, 1 would lose everything/);
    expect(impact.stdout).toContain(`${ids.ci} (ci-job, payments): 1 → 0  LOSES EVERYTHING`);
    expect(impact.stdout).toContain('- k8s:read k8s/payments');
    const diff = await h.cli(['policy', 'diff', 'current', dir], soc);
    expect(diff.stdout).toMatch(/\+ no-ci: forbid \(principal, action, resource\); reads principal\.kind/);
    expect(diff.stdout).toMatch(/ci-job\s+k8s:read\s+k8s\/payments\s+0\s+1/);

    const pub = await h.cli(['policy', 'publish', dir, '--wait'], approver);
    expect(pub.code).toBe(0);
    const v2 = Number(/published version (\d+)/.exec(pub.stdout)?.[1]);
    expect(v2).toBeGreaterThan(v1);
    await h.scopeWhere(ids.ci, (s) => s.permissions.length === 0);
    await h.scopeWhere(ids.pay, (s) => s.permissions.length === 1);

    const history = await h.cli(['policy', 'history'], soc);
    expect(history.stdout).toMatch(new RegExp(`${v2} .*carol`));
    expect(history.stdout).toMatch(new RegExp(`${v1} .*initial set`));

    // Preview the rollback, then roll back.
    const preview = await h.cli(['policy', 'impact', '--version', String(v1)], soc);
    expect(preview.stdout).toMatch(/1 would change — 0 narrowed, 1 widened/);
    const back = await h.cli(['--json', 'policy', 'rollback', String(v1), '--wait'], approver);
    expect(back.code).toBe(0);
    const r = JSON.parse(back.stdout) as { publication: { version: number; rollbackOf: number }; status: { complete: boolean } };
    expect(r.publication.rollbackOf).toBe(v1);
    expect(r.publication.version).toBeGreaterThan(v2);
    expect(r.status.complete).toBe(true);
    await h.scopeWhere(ids.ci, (s) => s.permissions.length === 1);
    const show = await h.cli(['policy', 'show'], soc);
    expect(show.stdout).toMatch(new RegExp(`version ${r.publication.version} .*published by .*carol`));

    // A SOC token cannot publish.
    expect((await h.cli(['policy', 'publish', dir], soc)).code).toBe(3);
  });
});

