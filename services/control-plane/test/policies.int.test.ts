import { identityEvent } from '@livescope/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';

/**
 * The policy lifecycle over a running worker and control plane: validation with positions, impact
 * computed from the workers' state before publishing, publication as a signed control event the
 * workers apply (idempotent by content hash), the second-admin flow, history and rollback.
 */
const h = new Harness();
const T = Date.now();
const base = { id: 'base', text: '@id("base")\npermit (principal, action, resource);\n' };
const noDbWrite = { id: 'no-db-write', text: '@id("no-db-write")\nforbid (principal, action == Livescope::Action::"db:write", resource)\nwhen { principal.namespace == "payments" };\n' };
const nothingForCi = { id: 'nothing-for-ci', text: '@id("nothing-for-ci")\nforbid (principal, action, resource)\nwhen { principal.kind == "ci-job" };\n' };
let ids: { pay: string; ops: string; ci: string };
let admin: string;
let admin2: string;
let approver: string;
let soc: string;

interface Publication {
  requestId: string | null;
  status: string;
  version: number | null;
  approvedBy: string | null;
  rollbackOf: number | null;
  hash: string;
}

beforeAll(async () => {
  await h.open();
  ids = { pay: `pay-${h.fx.id}`, ops: `ops-${h.fx.id}`, ci: `ci-${h.fx.id}` };
  const grant = (id: string, perms: { action: string; resource: string; access: 'read' | 'write' }[]) => identityEvent('entitlement.granted', id, { grantId: `g-${id}`, role: 'db', permissions: perms }, { id: `${id}/g`, time: T });
  await h.publish([
    identityEvent('identity.created', ids.pay, { kind: 'workload', name: 'pay', namespace: 'payments', owner: 'team-pay' }, { id: `${ids.pay}/c`, time: T }),
    identityEvent('identity.created', ids.ops, { kind: 'service-account', name: 'ops', namespace: 'ops', owner: 'team-ops' }, { id: `${ids.ops}/c`, time: T }),
    identityEvent('identity.created', ids.ci, { kind: 'ci-job', name: 'ci', namespace: 'payments', owner: 'team-pay' }, { id: `${ids.ci}/c`, time: T }),
    grant(ids.pay, [
      { action: 'db:read', resource: 'db/pay', access: 'read' },
      { action: 'db:write', resource: 'db/pay', access: 'write' },
    ]),
    grant(ids.ops, [{ action: 'db:write', resource: 'db/ops', access: 'write' }]),
    grant(ids.ci, [{ action: 'k8s:deploy', resource: 'k8s/pay', access: 'write' }]),
  ]);
  for (const id of Object.values(ids)) await h.scopeWhere(id, (s) => s.permissions.length > 0);
  admin = await h.token(['admin'], 'ada');
  admin2 = await h.token(['admin'], 'grace');
  approver = await h.token(['approver'], 'alan');
  soc = await h.token(['soc'], 'sam');
});

afterAll(async () => {
  await h.close();
});

const waitApplied = async (version: number): Promise<void> => {
  const r = await h.api('GET', `/v1/policies/versions/${version}/status?waitMs=30000`, soc);
  expect(r.status).toBe(200);
  expect(r.json).toMatchObject({ version, complete: true, refused: false, applied: 3, total: 3 });
};

describe('policy lifecycle', () => {
  it('validate names the file, line and column of every problem', async () => {
    const bad = { id: 'risk', text: '@id("risk")\nforbid (principal, action, resource)\nwhen { principal.riskscore >= 80 };\n' };
    const r = await h.api('POST', '/v1/policies/validate', soc, { files: [base, bad] });
    expect(r.status).toBe(200);
    const v = r.json as { valid: boolean; problems: { file: string; line: number; column: number; message: string }[] };
    expect(v.valid).toBe(false);
    expect(v.problems[0]).toMatchObject({ file: 'risk', line: 3 });
    expect(v.problems[0]!.column).toBeGreaterThan(1);
    expect(v.problems[0]!.message).toMatch(/riskscore/);
    // Publishing an invalid set is refused with the position.
    const p = await h.api('POST', '/v1/policies/publish', approver, { files: [base, bad] });
    expect(p.status).toBe(400);
    expect(JSON.stringify(p.json)).toMatch(/risk:3:/);
  });

  it('impact before publishing equals the change the workers then make; publication is idempotent by content', async () => {
    // The first set: the base permit only (nothing changes: every provisioned permission is already in scope).
    const first = await h.api('POST', '/v1/policies/publish', approver, { files: [base] });
    expect(first.status).toBe(202);
    const v1 = first.json as Publication;
    expect(v1).toMatchObject({ status: 'published', approvedBy: null });
    await waitApplied(v1.version!);

    const impact = await h.api('POST', '/v1/policies/impact', soc, { files: [base, noDbWrite, nothingForCi] });
    expect(impact.status).toBe(200);
    const im = impact.json as { inForce: { version: number }; scanned: number; totals: { changed: number; lost: number; losingEverything: number }; byNamespace: { namespace: string; changed: number }[]; byKind: { kind: string; losingEverything: number }[]; identities: { identityId: string; lost: { action: string }[]; gained: unknown[]; losesEverything: boolean }[] };
    expect(im.inForce.version).toBe(v1.version);
    expect(im.scanned).toBe(3);
    expect(im.totals).toMatchObject({ changed: 2, lost: 2, losingEverything: 1 });
    expect(im.identities.map((i) => [i.identityId, i.lost.map((p) => p.action), i.losesEverything])).toEqual([
      [ids.ci, ['k8s:deploy'], true],
      [ids.pay, ['db:write'], false],
    ]);
    expect(im.byNamespace.find((n) => n.namespace === 'payments')).toMatchObject({ changed: 2 });
    expect(im.byKind.find((k) => k.kind === 'ci-job')).toMatchObject({ losingEverything: 1 });
    // Drill-down: only one kind listed, fleet-wide counts unchanged.
    const drill = (await h.api('POST', '/v1/policies/impact', soc, { files: [base, noDbWrite, nothingForCi], kind: 'workload' })).json as typeof im;
    expect(drill.identities.map((i) => i.identityId)).toEqual([ids.pay]);
    expect(drill.totals.changed).toBe(2);

    const diff = await h.api('POST', '/v1/policies/diff', soc, { to: { files: [base, noDbWrite, nothingForCi] } });
    expect(diff.status).toBe(200);
    const d = diff.json as { files: { file: string; change: string }[]; policies: { id: string; change: string }[]; pairs: { action: string; kind: string; lost: number }[] };
    expect(d.files.map((f) => [f.file, f.change])).toEqual([
      ['no-db-write', 'added'],
      ['nothing-for-ci', 'added'],
    ]);
    expect(d.policies.map((p) => p.id)).toEqual(['no-db-write', 'nothing-for-ci']);
    expect(d.pairs.map((p) => `${p.action} ${p.kind} -${p.lost}`).sort()).toEqual(['db:write workload -1', 'k8s:deploy ci-job -1']);

    const pub = await h.api('POST', '/v1/policies/publish', approver, { files: [base, noDbWrite, nothingForCi], reason: 'lock payments writes' });
    const v2 = pub.json as Publication;
    expect(v2).toMatchObject({ status: 'published' });
    expect(v2.version).toBeGreaterThan(v1.version!);
    await waitApplied(v2.version!);
    await h.scopeWhere(ids.pay, (s) => s.permissions.map((p) => p.action).join() === 'db:read');
    await h.scopeWhere(ids.ci, (s) => s.permissions.length === 0);
    await h.scopeWhere(ids.ops, (s) => s.permissions.length === 1);

    // Same content, another file order: unchanged, same version, nothing published.
    const again = await h.api('POST', '/v1/policies/publish', approver, { files: [nothingForCi, noDbWrite, base] });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ status: 'unchanged', version: v2.version, hash: v2.hash });

    const current = (await h.api('GET', '/v1/policies', soc)).json as { version: number; publishedBy: string; files: unknown[] };
    expect(current).toMatchObject({ version: v2.version, publishedBy: expect.stringContaining('alan') });
    expect(current.files).toHaveLength(3);
  });

  it('a held publication waits for a second admin who is a person and not the requester; rollback republishes an old version', async () => {
    const history = (await h.api('GET', '/v1/policies/history', soc)).json as { versions: { version: number; policies: string[] }[] };
    const [latest, previous] = history.versions;
    expect(latest!.policies.sort()).toEqual(['base', 'no-db-write', 'nothing-for-ci']);

    const held = await h.api('POST', '/v1/policies/rollback', admin, { version: previous!.version, requireApproval: true, reason: 'undo the ci lockout' });
    expect(held.status).toBe(202);
    const req = held.json as Publication;
    expect(req).toMatchObject({ status: 'pending', version: null, rollbackOf: previous!.version });
    // The same request again is the same pending request.
    expect((await h.api('POST', '/v1/policies/rollback', admin, { version: previous!.version, requireApproval: true })).json).toMatchObject({ requestId: req.requestId });

    expect((await h.api('POST', `/v1/policies/requests/${req.requestId}/approve`, admin, {})).status).toBe(403);
    expect((await h.api('POST', `/v1/policies/requests/${req.requestId}/approve`, approver, {})).status).toBe(403);
    const robot = await h.token(['admin'], 'robot', { kind: 'workload' });
    expect((await h.api('POST', `/v1/policies/requests/${req.requestId}/approve`, robot, {})).status).toBe(403);
    // Nothing was published meanwhile.
    expect(((await h.api('GET', '/v1/policies', soc)).json as { version: number }).version).toBe(latest!.version);

    const ok = await h.api('POST', `/v1/policies/requests/${req.requestId}/approve`, admin2, {});
    expect(ok.status).toBe(202);
    const done = ok.json as Publication;
    expect(done).toMatchObject({ status: 'published', approvedBy: 'grace', rollbackOf: previous!.version });
    await waitApplied(done.version!);
    await h.scopeWhere(ids.ci, (s) => s.permissions.length === 1);
    await h.scopeWhere(ids.pay, (s) => s.permissions.length === 2);
    expect((await h.api('POST', `/v1/policies/requests/${req.requestId}/approve`, admin2, {})).status).toBe(409);

    const after = (await h.api('GET', '/v1/policies/history', soc)).json as { versions: { version: number; approvedBy: string | null; rollbackOf: number | null }[]; pending: unknown[] };
    expect(after.versions[0]).toMatchObject({ version: done.version, approvedBy: 'grace', rollbackOf: previous!.version });
    expect(after.pending).toEqual([]);
  });
});
