import { broadcastEvent, identityEvent, type Approver, type LivescopeEvent, type Permission } from '@livescope/contracts';
import { emptyOutput, type EngineOutput, type HandleResult } from '../EngineOutput.js';
import { ScopeEngine, type EngineDeps, type ProducerVerdict } from '../ScopeEngine.js';
import { permitAllPolicy, type ScopePolicy } from '../ScopePolicy.js';

/** Test fixtures for the pure engine: a fleet clock, event builders and a runner that collects outputs. */
export const T0 = Date.parse('2026-11-28T12:00:00Z');
export const MIN = 60_000;

export const perm = (action: string, resource: string, access: Permission['access'] = 'read', extra: Partial<Permission> = {}): Permission => ({ action, resource, access, ...extra });

let seq = 0;
export const nextId = (): string => `evt-${++seq}`;

export const ev = {
  created: (id: string, at: number, over: Partial<{ kind: 'agent' | 'workload' | 'service-account' | 'ci-job'; namespace: string; labels: Record<string, string> }> = {}) =>
    identityEvent('identity.created', id, { kind: over.kind ?? 'service-account', name: id, namespace: over.namespace ?? 'default', owner: 'team-a', labels: over.labels }, { id: nextId(), time: at }),
  granted: (id: string, grantId: string, role: string, permissions: Permission[], at: number) => identityEvent('entitlement.granted', id, { grantId, role, permissions }, { id: nextId(), time: at }),
  jit: (id: string, grantId: string, permissions: Permission[], expiresAt: number, at: number, sessionId?: string) =>
    identityEvent('jit.granted', id, { grantId, permissions, expiresAt: new Date(expiresAt).toISOString(), sessionId }, { id: nextId(), time: at }),
  session: (id: string, sessionId: string, at: number, extra: { tokenId?: string; task?: string } = {}) => identityEvent('session.started', id, { sessionId, ...extra }, { id: nextId(), time: at }),
  taskCompleted: (id: string, sessionId: string, at: number) => identityEvent('session.task-completed', id, { sessionId }, { id: nextId(), time: at }),
  lease: (id: string, leaseId: string, secretPath: string, expiresAt: number, at: number, sessionId?: string) =>
    identityEvent('secret.lease-created', id, { leaseId, secretPath, expiresAt: new Date(expiresAt).toISOString(), sessionId }, { id: nextId(), time: at }),
  approval: (id: string, escalation: string, expiresAt: number, at: number, extra: { sessionId?: string; approver?: Partial<Approver>; approvedBy?: string } = {}) =>
    identityEvent(
      'session.approval-granted',
      id,
      {
        approvalId: `ap-${seq}`,
        escalation,
        approvedBy: extra.approvedBy ?? 'alice',
        approver: { kind: 'human', subject: 'alice@example.com', issuer: 'https://idp.example.com', evidence: 'oidc-id-token', ...extra.approver },
        expiresAt: new Date(expiresAt).toISOString(),
        ...(extra.sessionId !== undefined ? { sessionId: extra.sessionId } : {}),
      },
      { id: nextId(), time: at },
    ),
  order: (data: Parameters<typeof broadcastEvent<'order.issued'>>[1], at: number) => broadcastEvent('order.issued', data, { id: nextId(), time: at }),
  lift: (orderId: string, at: number) => broadcastEvent('order.lifted', { orderId, actor: 'bob' }, { id: nextId(), time: at }),
};

/** The producer verdict tests use unless they say otherwise: a key allowed to send everything. */
export const TRUSTED: ProducerVerdict = { kind: 'trusted', keyId: 'test-producer' };
export const UNSIGNED_PRODUCER: ProducerVerdict = { kind: 'unsigned' };

export interface Run {
  readonly engine: ScopeEngine;
  /** Outputs of the last `send` or `tick`. */
  out: EngineOutput;
  /** Sends an event at broker time `at` (default: the event's time) from `producer` (default: trusted). */
  send(e: LivescopeEvent, at?: number, producer?: ProducerVerdict): HandleResult;
  tick(at: number): EngineOutput;
  scopeOf(id: string): string[];
}

export function run(policy: ScopePolicy = permitAllPolicy, deps: Partial<EngineDeps> = {}): Run {
  const engine = new ScopeEngine({ compilePolicies: () => policy, verifyReleaseWindow: () => true, ...deps });
  if (policy !== permitAllPolicy) engine.load({ identities: [], policies: { version: policy.version, files: [{ id: 'test', text: 'test' }] } });
  const r: Run = {
    engine,
    out: emptyOutput(),
    send(e, at, producer = TRUSTED) {
      r.out = emptyOutput();
      return engine.handle(e, { timestampMs: at ?? Date.parse(e.time), producer }, r.out);
    },
    tick(at) {
      r.out = emptyOutput();
      engine.tick(at, r.out);
      return r.out;
    },
    scopeOf(id) {
      return (engine.identity(id)?.scope ?? []).map((s) => `${s.perm.action} ${s.perm.resource}`);
    },
  };
  return r;
}
