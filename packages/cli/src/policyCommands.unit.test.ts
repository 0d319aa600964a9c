import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

/**
 * The local half of `livescope policy` (no control plane): validation with positions, the policy
 * tests of the example repository layout (examples/policies, run here so that `npm test` runs
 * them in livescope's CI), and the local diff.
 */
const examples = fileURLToPath(new URL('../../../examples/policies/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'livescope-policy-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: {} });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const copy = (name: string): string => {
  const dir = join(tmp, name);
  cpSync(examples, dir, { recursive: true });
  return dir;
};

describe('livescope policy (local)', () => {
  it('the example policy repository validates and its tests pass', async () => {
    const v = await cli(['policy', 'validate', examples]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/8 policies in 7 files validate/);
    const t = await cli(['--json', 'policy', 'test', examples]);
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const r = JSON.parse(t.stdout) as { passed: number; failed: number; results: { suite: string }[] };
    expect(r.failed).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(20);
    expect(new Set(r.results.map((x) => x.suite))).toEqual(new Set(['escalation.test.json', 'incident-read-only.test.json', 'jit-vault.test.json', 'release-window.test.json', 'risk.test.json', 'tool-chain.test.json']));
  });

  it('a policy change the tests do not expect fails them, naming test, case and determining policies', async () => {
    const dir = copy('no-escalation');
    rmSync(join(dir, 'escalation.cedar'));
    writeFileSync(join(dir, 'risk.cedar'), '@id("risk")\nforbid (principal, action in [Livescope::Action::"access:write", Livescope::Action::"access:admin"], resource)\nwhen { context.riskScore >= 90 };\n');
    const t = await cli(['policy', 'test', dir]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/FAIL {2}escalation\.test\.json › tickets always, secrets only after a person approves › secrets:read secret\/kb: expected deny, got allow/);
    expect(t.stdout).toMatch(/FAIL {2}risk\.test\.json › risk 85 › db:write db\/warehouse: expected deny, got allow/);
    expect(t.stdout).toMatch(/PASS {2}risk\.test\.json › risk 79/);
    expect(t.stdout).toMatch(/, [1-9]\d* failed/);
  });

  it('validate gives the file, line and column of each problem and exits 1', async () => {
    const dir = copy('broken');
    writeFileSync(join(dir, 'risk.cedar'), '@id("risk")\nforbid (principal, action, resource)\nwhen { principal.riskscore >= 80 };\n');
    const v = await cli(['policy', 'validate', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`${join(dir, 'risk.cedar').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: error POLICY_VALIDATION: .*riskscore`));
    const parse = copy('unparsable');
    writeFileSync(join(parse, 'base.cedar'), 'permit (principal, action, resource)\nwhen { true ;\n');
    const p = await cli(['--json', 'policy', 'validate', parse]);
    expect(p.code).toBe(1);
    expect(JSON.parse(p.stdout)).toMatchObject({ valid: false, problems: [{ file: 'base', code: 'POLICY_PARSE', line: expect.any(Number) as number }] });
    // Tests do not run on a set that does not validate.
    expect((await cli(['policy', 'test', dir])).code).toBe(1);
  });

  it('a malformed test file is a usage error naming the field', async () => {
    const dir = copy('bad-test');
    writeFileSync(join(dir, 'tests', 'zz.test.json'), JSON.stringify({ tests: [{ name: 'x', at: '2026-01-01T00:00:00Z', identity: { id: 'a', kind: 'robot', namespace: 'n' }, entitlements: [], cases: [{ action: 'a', resource: 'r', expect: 'allow' }] }] }));
    const t = await cli(['policy', 'test', dir]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/zz\.test\.json: \$\.tests\[0\]\.identity\.kind: expected one of agent, workload, service-account, ci-job/);
  });

  it('diff of two directories without the fleet: unified text and the policies that changed', async () => {
    const dir = copy('edited');
    writeFileSync(join(dir, 'risk.cedar'), '@id("risk")\nforbid (\n  principal,\n  action in [Livescope::Action::"access:write", Livescope::Action::"access:admin"],\n  resource\n)\nwhen { context.riskScore >= 60 || principal.riskScore >= 60 };\n');
    writeFileSync(join(dir, 'mfa.cedar'), '@id("mfa")\nforbid (principal, action == Livescope::Action::"db:admin", resource)\nunless { context.session.mfa };\n');
    const d = await cli(['policy', 'diff', '--no-fleet', examples, dir]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/\+\+\+ mfa\.cedar/);
    expect(d.stdout).toMatch(/-when \{ context\.riskScore >= 80 \|\| principal\.riskScore >= 80 \};\n\+when \{ context\.riskScore >= 60/);
    expect(d.stdout).toMatch(/\+ mfa: forbid \(principal, action == Livescope::Action::"db:admin", resource\); reads context\.session\.mfa/);
    expect(d.stdout).toMatch(/~ risk: .*changed: conditions/);
  });
});
