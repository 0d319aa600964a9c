import { readFileSync } from 'node:fs';
import { Topics, topicNames } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { aclPlan, aclTable, allows, describePlan, ROLES, rolesAllowed, type RoleAcls } from '../aclPlan.js';

const prefix = 't1a2b3c4.';
const plan = aclPlan({ topicPrefix: prefix });
const topics = topicNames(prefix);
const user = (role: string): string => `User:${plan.find((r) => r.role === role)!.user}`;

describe('aclPlan', () => {
  it('only the scope worker and the event writers (control plane, interop/ingest, simulator) may write the events topic', () => {
    expect(rolesAllowed(plan, 'WRITE', topics.events).sort()).toEqual(['control-plane', 'interop', 'scope-worker', 'simulator']);
  });

  it('the enforcer role cannot write the events topic, nor any topic but its reports, acknowledgements and alerts', () => {
    expect(allows(plan, user('enforcer'), 'WRITE', topics.events)).toBe(false);
    const written = Object.values(topics).filter((t) => allows(plan, user('enforcer'), 'WRITE', t));
    expect(written.sort()).toEqual([topics.driftAlerts, topics.enforcerAcks, topics.enforcerReports].sort());
    // It still learns the partition count of the events topic (metadata only).
    expect(allows(plan, user('enforcer'), 'DESCRIBE', topics.events)).toBe(true);
  });

  it('the enforcer reads what it follows and nothing it does not need', () => {
    const read = Object.values(topics).filter((t) => allows(plan, user('enforcer'), 'READ', t));
    expect(read.sort()).toEqual([topics.scopeChanges, topics.scopeSnapshots, topics.revocations, topics.heartbeats, topics.auditHeads].sort());
  });

  it('commands, snapshots, heartbeats and audit heads are written by the scope worker alone', () => {
    for (const t of [topics.scopeChanges, topics.scopeSnapshots, topics.revocations, topics.heartbeats, topics.auditHeads]) {
      expect(rolesAllowed(plan, 'WRITE', t), t).toEqual(['scope-worker']);
    }
  });

  it('ingest/interop writes observations, CAEP, OCSF and dead letters and reads what its bridges consume', () => {
    const i = user('interop');
    expect(Object.values(topics).filter((t) => allows(plan, i, 'WRITE', t)).sort()).toEqual([topics.events, topics.caepEvents, topics.ocsfAlerts, topics.deadLetters].sort());
    expect(Object.values(topics).filter((t) => allows(plan, i, 'READ', t)).sort()).toEqual([topics.scopeChanges, topics.revocations, topics.driftAlerts].sort());
    expect(allows(plan, i, 'WRITE', topics.scopeChanges)).toBe(false);
  });

  it('every topic has a writer and a reader', () => {
    for (const t of Object.values(topics)) {
      expect(rolesAllowed(plan, 'WRITE', t).length, `${t} written`).toBeGreaterThan(0);
      if (t !== topics.caepEvents && t !== topics.ocsfAlerts) expect(rolesAllowed(plan, 'READ', t).length, `${t} read`).toBeGreaterThan(0);
    }
  });

  it('grants only topics under the prefix, by exact name', () => {
    for (const r of plan) {
      for (const a of r.acls.filter((x) => x.resourceType === 'TOPIC')) {
        expect(a.patternType).toBe('LITERAL');
        expect(Object.values(topics)).toContain(a.resourceName);
      }
    }
    expect(allows(plan, user('scope-worker'), 'WRITE', Topics.events)).toBe(false);
  });

  it('consumer groups by the ids the services use', () => {
    const groups = (r: RoleAcls): string[] => r.acls.filter((a) => a.resourceType === 'GROUP').map((a) => `${a.patternType}:${a.resourceName}`);
    const byRole = Object.fromEntries(aclPlan({ topicPrefix: prefix, workerGroupId: 't1-workers', controlPlaneGroupId: 't1-cp' }).map((r) => [r.role, groups(r)]));
    expect(byRole).toEqual({
      'scope-worker': ['LITERAL:t1-workers', 'LITERAL:t1-workers-report-relay'],
      'control-plane': ['PREFIXED:t1-cp'],
      interop: [`PREFIXED:${prefix}livescope-interop-`],
      simulator: ['PREFIXED:livescope-feed-'],
      enforcer: ['PREFIXED:livescope-enforcer-'],
    });
    expect(aclPlan({ topicPrefix: '' }).find((r) => r.role === 'scope-worker')!.acls.find((a) => a.resourceType === 'GROUP')!.resourceName).toBe('livescope-scope-worker');
  });

  it('names users after roles unless told otherwise; no role is the admin', () => {
    expect(plan.map((r) => r.user)).toEqual([...ROLES]);
    const renamed = aclPlan({ topicPrefix: '', users: { enforcer: 'gw-prod' } });
    expect(renamed.find((r) => r.role === 'enforcer')!.acls.every((a) => a.principal === 'User:gw-prod')).toBe(true);
    expect(plan.some((r) => r.user === 'admin')).toBe(false);
  });

  it('describes itself one line per role', () => {
    const lines = describePlan(aclPlan({ topicPrefix: '' }), '');
    expect(lines).toHaveLength(ROLES.length);
    expect(lines.find((l) => l.startsWith('enforcer'))).toBe(
      'enforcer (User:enforcer): read livescope.scope.changes.v1, livescope.scope.snapshots.v1, livescope.scope.revocations.v1, livescope.heartbeats.v1, livescope.audit.heads.v1; write livescope.enforcer.reports.v1, livescope.enforcer.acks.v1, livescope.alerts.drift.v1; describe livescope.events.v1; groups livescope-enforcer-*',
    );
  });

  it('docs/operations.md shows the plan of the default prefix (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const block = /<!-- acl-plan -->\n([\s\S]*?)\n<!-- \/acl-plan -->/.exec(doc)?.[1];
    expect(block).toBe(aclTable(aclPlan({ topicPrefix: '' })));
  });
});
