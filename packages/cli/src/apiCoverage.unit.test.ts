import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

/** The command that calls each operation of docs/openapi.json; null: not for a command line (with why). */
const commandOf: Record<string, string | null> = {
  issueOrder: 'quarantine',
  listOrders: 'orders',
  orderStatus: 'order',
  liftOrder: 'lift',
  listIdentities: 'identities',
  getScope: 'scope',
  getScopeAtVersion: 'scope',
  getHistory: 'history',
  explain: 'explain',
  grantApproval: 'approve',
  revokeApproval: 'revoke-approval',
  listAlerts: 'alerts',
  streamAlerts: 'alerts',
  acknowledgeAlert: 'alerts ack',
  fleetSummary: 'fleet',
  listChanges: 'changes',
  streamChanges: 'changes',
  whoami: 'me',
  signInConfig: 'login',
  listEnforcers: 'enforcers',
  currentPolicies: 'policy show',
  // The CLI validates and tests locally, with the workers' compiler: no control plane needed.
  validatePolicies: 'policy validate',
  testPolicies: 'policy test',
  diffPolicies: 'policy diff',
  policyImpact: 'policy impact',
  publishPolicies: 'policy publish',
  rollbackPolicies: 'policy rollback',
  policyRequests: 'policy requests',
  policyRequest: 'policy request',
  approvePolicies: 'policy approve',
  rejectPolicies: 'policy reject',
  policyHistory: 'policy history',
  policyVersion: 'policy show',
  policyStatus: 'policy status',
  // Probes, scrapers and browsers, not people at a terminal.
  health: null,
  ready: null,
  metrics: null,
  home: null,
  consoleRoot: null,
  console: null,
  openapi: null,
};

describe('the CLI covers the API', () => {
  const doc = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));

  it('names a command (or why none) for every operation of docs/openapi.json, and no operation that is gone', () => {
    expect([...operations].sort()).toEqual(Object.keys(commandOf).sort());
  });

  it.each([...new Set(Object.values(commandOf).filter((c): c is string => c !== null))])('livescope %s exists', async (command) => {
    const out: string[] = [];
    expect(await runCli([...command.split(' '), '--help'], { stdout: (t) => void out.push(t), stderr: () => undefined, env: {} })).toBe(0);
    expect(out.join('')).toMatch(new RegExp(`^Usage: livescope ${command} `));
  });
});
