import { releaseWindowSigningPayload, type LivescopeEventInput, type Permission } from '@livescope/contracts';

/**
 * The person the demo's approvals come from. A real approval goes through the control plane, which
 * verifies the approver's token from the human identity provider; the simulator stands in for it
 * (its producer key is allowed to send approvals in the development keyring).
 */
export const SIMULATED_APPROVER = { kind: 'human', subject: 'alice@example.com', issuer: 'https://idp.example.com/simulated', evidence: 'oidc-id-token' } as const;

/**
 * The seed scenarios of DESIGN.md as timed event scripts. Each step is due `at` ms after the
 * scenario starts; `minuteMs` compresses time (60 000 = real time; tests use a few hundred ms).
 * The end-to-end tests and `livescope-sim play <name>` run the same scripts.
 */
export interface ScenarioStep {
  readonly at: number;
  readonly say: string;
  readonly events: readonly LivescopeEventInput[];
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  /** The identity the scenario is about. */
  readonly identityId: string;
  readonly steps: readonly ScenarioStep[];
}

export const scenarioNames = ['release-window', 'escalation', 'incident-read-only', 'jit-vault', 'tool-chain', 'token-replay', 'leaked-secret', 'offboarding'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface ScenarioOptions {
  readonly startMs: number;
  readonly minuteMs: number;
  /** Distinguishes runs, so a scenario can be played again with fresh identities. */
  readonly runId: string;
  /** Signs a release window payload (Ed25519, base64url) as `signer`. */
  readonly signReleaseWindow: (payload: string) => string;
  readonly releaseSigner: string;
}

const perm = (action: string, resource: string, access: Permission['access'], namespace: string, system: string): Permission => ({ action, resource, access, namespace, system });

export function scenario(name: ScenarioName, o: ScenarioOptions): Scenario {
  const m = o.minuteMs;
  const iso = (offset: number): string => new Date(o.startMs + offset).toISOString();
  let n = 0;
  const ev = (subject: string | undefined, type: string, data: Record<string, unknown>, offset: number): LivescopeEventInput =>
    ({ specversion: '1.0', id: `${o.runId}/${name}/${++n}`, type, source: 'simulator', time: iso(offset), ...(subject ? { subject } : {}), data }) as LivescopeEventInput;
  const created = (id: string, kind: string, namespace: string, at: number, labels: Record<string, string> = {}): LivescopeEventInput =>
    ev(id, 'identity.created', { kind, name: id, namespace, owner: `team-${namespace}`, labels: { team: namespace, ...labels } }, at);
  const grant = (id: string, role: string, permissions: Permission[], at: number): LivescopeEventInput => ev(id, 'entitlement.granted', { grantId: `${id}/${role}`, role, permissions }, at);

  switch (name) {
    case 'release-window': {
      const id = `ci-deployer-${o.runId}`;
      const w = { windowId: `rw-${o.runId}`, namespace: 'checkout', startsAt: iso(1 * m), endsAt: iso(3 * m), signedBy: o.releaseSigner };
      return {
        name,
        title: 'A CI/CD agent deploys only during a signed release window, only to its namespace',
        identityId: id,
        steps: [
          { at: 0, say: 'the CI job is provisioned to deploy to checkout; no window is open, so deploy is out of its scope', events: [created(id, 'ci-job', 'checkout', 0), grant(id, 'checkout-deployer', [perm('k8s:deploy', 'k8s/checkout/deployments', 'write', 'checkout', 'kubernetes'), perm('k8s:deploy', 'k8s/payments/deployments', 'write', 'payments', 'kubernetes'), perm('k8s:read', 'k8s/checkout/deployments', 'read', 'checkout', 'kubernetes')], 0)] },
          { at: 0.1 * m, say: 'a release manager signs a window for checkout, one minute from now, two minutes long', events: [ev(undefined, 'org.release-window', { ...w, signature: o.signReleaseWindow(releaseWindowSigningPayload(w)) }, 0.1 * m)] },
          { at: 3.5 * m, say: 'the window has ended: deploy left the scope with no further event', events: [] },
        ],
      };
    }
    case 'escalation': {
      const id = `support-bot-${o.runId}`;
      return {
        name,
        title: 'A chatbot reads tickets; secret retrieval only after a human approves, for the approval TTL',
        identityId: id,
        steps: [
          { at: 0, say: 'the support bot reads tickets; its provisioned secret access is not in scope', events: [created(id, 'agent', 'support', 0), grant(id, 'support-tickets', [perm('tickets:read', 'tickets/support', 'read', 'support', 'jira')], 0), grant(id, 'support-secrets', [perm('secrets:read', 'secret/support/kb', 'read', 'support', 'vault')], 0)] },
          { at: 0.5 * m, say: 'a human approves the secret-retrieval escalation for two minutes', events: [ev(id, 'session.approval-granted', { approvalId: `ap-${o.runId}`, escalation: 'secret-retrieval', approvedBy: 'alice@example.com', approver: SIMULATED_APPROVER, expiresAt: iso(2.5 * m) }, 0.5 * m)] },
          { at: 3 * m, say: 'the approval TTL passed: secret retrieval left the scope', events: [] },
        ],
      };
    }
    case 'incident-read-only': {
      const id = `payments-api-${o.runId}`;
      const sel = { labels: { team: 'payments' }, kind: 'workload' as const };
      return {
        name,
        title: 'A database workload is read-only while an incident order is active, restored when lifted or expired',
        identityId: id,
        steps: [
          { at: 0, say: 'the payments workload reads and writes its database', events: [created(id, 'workload', 'payments', 0), grant(id, 'payments-db-writer', [perm('db:read', 'db/payments', 'read', 'payments', 'postgres'), perm('db:write', 'db/payments', 'write', 'payments', 'postgres')], 0)] },
          { at: 0.5 * m, say: 'a responder orders payments workloads read-only for two hours', events: [ev(undefined, 'order.issued', { orderId: `ro-${o.runId}`, kind: 'read-only', target: { selector: sel }, expiresAt: iso(120 * m), reason: 'incident INC-42: suspected data exfiltration', actor: 'responder@example.com' }, 0.5 * m)] },
          { at: 1.5 * m, say: 'the order is lifted: writes are back', events: [ev(undefined, 'order.lifted', { orderId: `ro-${o.runId}`, actor: 'responder@example.com', reason: 'contained' }, 1.5 * m)] },
          { at: 2 * m, say: 'a second order, for one minute only', events: [ev(undefined, 'order.issued', { orderId: `ro2-${o.runId}`, kind: 'read-only', target: { identityId: id }, expiresAt: iso(3 * m), reason: 'precaution', actor: 'responder@example.com' }, 2 * m)] },
          { at: 3.5 * m, say: 'it expired by itself: writes are back', events: [] },
        ],
      };
    }
    case 'jit-vault': {
      const id = `sa-batch-${o.runId}`;
      const sid = `sess-${o.runId}`;
      return {
        name,
        title: 'Five minutes of just-in-time vault access; session and leases revoked when the task completes',
        identityId: id,
        steps: [
          { at: 0, say: 'a batch service account opens a session for a task', events: [created(id, 'service-account', 'data', 0), ev(id, 'session.started', { sessionId: sid, task: 'nightly-export', mfa: true, tokenId: `tok-${o.runId}`, system: 'idp' }, 0)] },
          { at: 0.2 * m, say: 'it gets five minutes of vault access bound to the session, and takes a lease', events: [ev(id, 'jit.granted', { grantId: `jit-${o.runId}`, sessionId: sid, expiresAt: iso(5.2 * m), approvedBy: 'oncall', permissions: [perm('vault:read', 'secret/data/export', 'read', 'data', 'vault')] }, 0.2 * m), ev(id, 'secret.lease-created', { leaseId: `lease-${o.runId}`, secretPath: 'secret/data/export', sessionId: sid, system: 'vault', expiresAt: iso(30 * m) }, 0.3 * m)] },
          { at: 1 * m, say: 'the task completes: session, token and lease are revoked, vault access leaves the scope', events: [ev(id, 'session.task-completed', { sessionId: sid }, 1 * m)] },
        ],
      };
    }
    case 'tool-chain': {
      const id = `agent-orchestrated-${o.runId}`;
      return {
        name,
        title: 'An orchestrated AI agent may invoke one tool chain; anything else is denied and alerted',
        identityId: id,
        steps: [
          { at: 0, say: 'the agent may invoke its tool chain (and, by mistake, was also given database access)', events: [created(id, 'agent', 'support', 0, { orchestrator: 'support-router' }), grant(id, 'support-tools', [perm('tool:invoke', 'tools/support/chain', 'write', 'support', 'agent-router')], 0), grant(id, 'legacy-db', [perm('db:read', 'db/support', 'read', 'support', 'postgres')], 0), ev(id, 'session.started', { sessionId: `s-${o.runId}`, task: 'triage', system: 'agent-router' }, 0)] },
          { at: 0.5 * m, say: 'the enforcement point sees it try an admin console and the database', events: [] },
        ],
      };
    }
    case 'token-replay': {
      const id = `workload-replay-${o.runId}`;
      return {
        name,
        title: 'A replayed token revokes the session and raises risk',
        identityId: id,
        steps: [
          { at: 0, say: 'a workload with database write access opens a session', events: [created(id, 'workload', 'payments', 0), grant(id, 'payments-db-writer', [perm('db:read', 'db/payments', 'read', 'payments', 'postgres'), perm('db:write', 'db/payments', 'write', 'payments', 'postgres')], 0), ev(id, 'session.started', { sessionId: `s-${o.runId}`, tokenId: `tok-${o.runId}`, system: 'idp' }, 0)] },
          { at: 0.5 * m, say: 'telemetry sees its token replayed from another host', events: [ev(id, 'telemetry.token-replay-detected', { tokenId: `tok-${o.runId}`, sessionId: `s-${o.runId}`, evidence: 'same jti from 203.0.113.7 and 198.51.100.4' }, 0.5 * m)] },
        ],
      };
    }
    case 'leaked-secret': {
      const ids = [`svc-a-${o.runId}`, `svc-b-${o.runId}`];
      return {
        name,
        title: 'A leaked secret revokes every lease of it',
        identityId: ids[0]!,
        steps: [
          { at: 0, say: 'two services hold leases of the same database credential', events: ids.flatMap((id, i) => [created(id, 'service-account', 'data', 0), ev(id, 'secret.lease-created', { leaseId: `lease-${i}-${o.runId}`, secretPath: `secret/data/shared-${o.runId}`, system: 'vault', expiresAt: iso(60 * m) }, 0)]) },
          { at: 0.5 * m, say: 'the credential is found in a public repository', events: [ev(undefined, 'secret.leaked', { secretPath: `secret/data/shared-${o.runId}`, evidence: 'found in a public gist' }, 0.5 * m)] },
        ],
      };
    }
    case 'offboarding': {
      const id = `retired-svc-${o.runId}`;
      return {
        name,
        title: 'A deleted (offboarded) identity loses all scope at once',
        identityId: id,
        steps: [
          { at: 0, say: 'a service account with broad access', events: [created(id, 'service-account', 'checkout', 0), grant(id, 'checkout-db-writer', [perm('db:read', 'db/checkout', 'read', 'checkout', 'postgres'), perm('db:write', 'db/checkout', 'write', 'checkout', 'postgres')], 0), grant(id, 'checkout-secrets', [perm('secrets:read', 'secret/checkout/app', 'read', 'checkout', 'vault')], 0), ev(id, 'session.started', { sessionId: `s-${o.runId}`, system: 'idp' }, 0)] },
          { at: 0.5 * m, say: 'it is offboarded', events: [ev(id, 'identity.deleted', { reason: 'service retired' }, 0.5 * m)] },
        ],
      };
    }
  }
}
