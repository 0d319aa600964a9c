import { broadcastEvent, identityEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import type { ProducerVerdict } from './ScopeEngine.js';
import type { ScopePolicy } from './ScopePolicy.js';
import { from, spec, tick } from './testing/engineSpec.js';
import { ev, MIN, nextId, perm, T0, UNSIGNED_PRODUCER as UNSIGNED } from './testing/fixtures.js';

/**
 * The trust boundary in the engine (issue 14): control events need a trusted producer, unsigned
 * observations can only narrow, approvals must come from a human other than the identity, and the
 * permissions an approval enables hold only in its session.
 */
const created = ev.created('bot-1', T0);
const reader = ev.granted('bot-1', 'g1', 'reader', [perm('db:read', 'db/orders')], T0 + 1);
const REFUSED: ProducerVerdict = { kind: 'refused', keyId: 'sidecar-7', reason: 'signature does not match' };

/** Scenario 2's policy: secrets:read only with a human-approved escalation, as the engine computes it. */
const escalation: ScopePolicy = {
  version: 1,
  fingerprints: new Map([['escalation', 'v1']]),
  decide: (_p, r, c) => (r.action === 'secrets:read' && !c.humanApprovals.includes('secret-retrieval') ? { allow: false, determining: ['escalation'], errors: [] } : { allow: true, determining: ['base'], errors: [] }),
  horizon: () => null,
  reads: (i) => i === 'context.approvals',
  scopeHint: () => ({ actions: ['secrets:read'] }),
};

describe('control events need a trusted producer', () => {
  it('an unsigned entitlement grant is refused with an alert, and widens nothing', () => {
    spec()
      .given(created)
      .when(from(UNSIGNED, reader))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' });
        expect(o.scope('bot-1')).toEqual([]);
        expect(o.out.changes).toHaveLength(0);
        expect(o.out.alerts).toEqual([expect.objectContaining({ type: 'unauthorized-producer', identityId: 'bot-1', severity: 'critical' })]);
      });
  });

  it('an unsigned policy set, order lift or identity enable is refused', () => {
    const policies = broadcastEvent('policies.published', { version: 9, policies: [{ id: 'p', text: 'permit(principal, action, resource);' }], publishedBy: 'mallory' }, { id: nextId(), time: T0 + 2 });
    const lift = ev.lift('o-1', T0 + 3);
    const enable = identityEvent('identity.enabled', 'bot-1', { reason: 'trust me' }, { id: nextId(), time: T0 + 4 });
    for (const e of [policies, lift, enable]) {
      spec()
        .given(created, reader)
        .when(from(UNSIGNED, e))
        .then((o) => {
          expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' });
          expect(o.out.alerts.map((a) => a.type)).toEqual(['unauthorized-producer']);
        });
    }
  });

  it('a forged or unauthorised signature is refused like no signature', () => {
    spec()
      .given(created)
      .when(from(REFUSED, reader))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' });
        expect(o.out.alerts[0]!.details).toMatchObject({ producerKeyId: 'sidecar-7' });
      });
  });

  it('a signed control event older than the freshness window is a replay and is refused', () => {
    const old = ev.granted('bot-1', 'g9', 'admin', [perm('db:admin', 'db/orders', 'admin')], T0);
    spec()
      .given(created)
      .when({ event: old, at: T0 + 6 * MIN })
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'stale-control-event' }));
  });

  it('an enable older than the disable it would undo changes nothing', () => {
    const disable = identityEvent('identity.disabled', 'bot-1', { reason: 'incident' }, { id: nextId(), time: T0 + 10 });
    const staleEnable = identityEvent('identity.enabled', 'bot-1', {}, { id: nextId(), time: T0 + 5 });
    spec()
      .given(created, reader, disable)
      .when({ event: staleEnable, at: T0 + 20 })
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.engine.identity('bot-1')!.status).toBe('disabled');
      });
  });

  it('a producer key limited to namespaces acts only inside them', () => {
    const payments: ProducerVerdict = { kind: 'trusted', keyId: 'payments-ci', namespaces: ['payments'] };
    spec()
      .given(created)
      .when(from(payments, reader))
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' }));
    const other = ev.created('pay-1', T0, { namespace: 'payments' });
    const quarantineAll = ev.order({ orderId: 'o-all', kind: 'quarantine', target: { all: true }, reason: 'drill', actor: 'payments-oncall' }, T0 + 5);
    spec()
      .given(created, reader, other, ev.granted('pay-1', 'g2', 'reader', [perm('db:read', 'db/pay')], T0 + 2))
      .when(from(payments, quarantineAll))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'applied' });
        expect(o.scope('pay-1')).toEqual([]);
        expect(o.scope('bot-1')).toEqual(['db:read db/orders']);
      });
    const selectorOutside = ev.order({ orderId: 'o-x', kind: 'read-only', target: { selector: { namespace: 'default' } }, reason: 'x', actor: 'a' }, T0 + 5);
    spec()
      .given(created)
      .when(from(payments, selectorOutside))
      .then((o) => expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' }));
  });
});

describe('unsigned observations can only narrow', () => {
  it('an identity first seen in an observation is provisional: no scope until a trusted producer attests it', () => {
    const attest = identityEvent('identity.updated', 'bot-1', { namespace: 'default' }, { id: nextId(), time: T0 + 3 });
    spec()
      .given(from(UNSIGNED, created), reader)
      .when(attest)
      .then((o) => {
        expect(o.scope('bot-1')).toEqual(['db:read db/orders']);
        expect(o.out.changes[0]).toMatchObject({ direction: 'widening' });
      });
    spec()
      .given(from(UNSIGNED, created))
      .when(reader)
      .then((o) => {
        expect(o.engine.identity('bot-1')!.attested).toBe(false);
        expect(o.scope('bot-1')).toEqual([]);
      });
  });

  it('an unsigned session start is observed: never sent to enforcers, never seen by policies', () => {
    spec()
      .given(created, reader)
      .when(from(UNSIGNED, ev.session('bot-1', 's-observed', T0 + 2)))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'applied' });
        expect(o.out.changes).toHaveLength(0);
        expect(o.engine.identity('bot-1')!.sessions).toEqual([expect.objectContaining({ sessionId: 's-observed', attested: false })]);
      });
    spec()
      .given(created, reader)
      .when(ev.session('bot-1', 's-issued', T0 + 2))
      .then((o) => expect(o.out.changes[0]!.sessions).toEqual(['s-issued']));
  });

  it('an unsigned session start cannot replace a session its issuer started', () => {
    spec()
      .given(created, reader, ev.session('bot-1', 's-1', T0 + 2, { task: 'triage' }))
      .when(from(UNSIGNED, ev.session('bot-1', 's-1', T0 + 3, { task: 'admin' })))
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.engine.identity('bot-1')!.sessions[0]).toMatchObject({ task: 'triage', attested: true });
      });
  });

  it('an unsigned risk score can raise the risk, never lower it', () => {
    const risk = (score: number, at: number) => identityEvent('telemetry.risk-scored', 'bot-1', { score }, { id: nextId(), time: at });
    spec()
      .given(created, risk(80, T0 + 1))
      .when(from(UNSIGNED, risk(5, T0 + 2)))
      .then((o) => {
        expect(o.result).toEqual({ status: 'unchanged' });
        expect(o.engine.identity('bot-1')!.riskScore).toBe(80);
      });
    spec()
      .given(created, risk(10, T0 + 1))
      .when(from(UNSIGNED, risk(95, T0 + 2)))
      .then((o) => expect(o.engine.identity('bot-1')!.riskScore).toBe(95));
  });

  it('an observation that would still widen (a policy that permits on a fact it reports) is refused and leaves no trace', () => {
    const calibration: ScopePolicy = {
      version: 1,
      fingerprints: new Map([['calibration', 'v1']]),
      decide: (_p, r, c) => (r.action === 'db:admin' && !c.anomalies.includes('calibration') ? { allow: false, determining: ['calibration'], errors: [] } : { allow: true, determining: ['base'], errors: [] }),
      horizon: () => null,
      reads: (i) => i === 'context.anomalies',
      scopeHint: () => ({}),
    };
    const admin = ev.granted('bot-1', 'g2', 'dba', [perm('db:admin', 'db/orders', 'admin')], T0 + 1);
    const anomaly = identityEvent('telemetry.anomaly-detected', 'bot-1', { anomalyId: 'a1', kind: 'calibration', severity: 'low', expiresAt: new Date(T0 + 60 * MIN).toISOString() }, { id: nextId(), time: T0 + 2 });
    spec(calibration)
      .given(created, admin)
      .when(from(UNSIGNED, anomaly))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'rejected', reason: 'unauthorized-producer' });
        expect(o.result).toMatchObject({ message: expect.stringContaining('would widen') });
        expect(o.scope('bot-1')).toEqual([]);
        expect(o.engine.identity('bot-1')!.anomalies).toEqual([]);
        expect(o.out.changes).toHaveLength(0);
      });
  });

  it('unsigned narrowing observations still apply: token replay revokes and raises risk', () => {
    const replay = identityEvent('telemetry.token-replay-detected', 'bot-1', { tokenId: 'tok-1' }, { id: nextId(), time: T0 + 3 });
    spec()
      .given(created, reader, ev.session('bot-1', 's-1', T0 + 2, { tokenId: 'tok-1' }))
      .when(from(UNSIGNED, replay))
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'applied' });
        expect(o.out.revocations.map((r) => r.target.type)).toEqual(['session', 'token']);
        expect(o.out.alerts.map((a) => a.type)).toEqual(['token-replay']);
      });
  });
});

describe('approvals are human and bound to their session', () => {
  const secret = ev.granted('bot-1', 'g3', 'kb', [perm('secrets:read', 'secret/kb'), perm('tickets:read', 'tickets/all')], T0 + 1);
  const sessionA = ev.session('bot-1', 'A', T0 + 2);
  const sessionB = ev.session('bot-1', 'B', T0 + 2);

  it.each([
    ['no approver', { approver: undefined }],
    ['a non-human approver', { approver: { kind: 'agent' as const, subject: 'orchestrator-1' } }],
    ['no evidence', { approver: { evidence: 'none' as const } }],
    ['the identity itself', { approver: { subject: 'bot-1' } }],
    ['another tracked identity', { approver: { subject: 'helper-bot' } }],
  ])('an approval by %s is refused with an invalid-approval alert', (_name, extra) => {
    const approval = ev.approval('bot-1', 'secret-retrieval', T0 + 30 * MIN, T0 + 3, { sessionId: 'A', ...extra });
    if (extra.approver === undefined) delete (approval.data as { approver?: unknown }).approver;
    spec(escalation)
      .given(ev.created('helper-bot', T0), created, secret, sessionA)
      .when(approval)
      .then((o) => {
        expect(o.result).toMatchObject({ status: 'rejected', reason: 'invalid-approval' });
        expect(o.scope('bot-1')).toEqual(['tickets:read tickets/all']);
        expect(o.out.alerts.map((a) => a.type)).toEqual(['invalid-approval']);
      });
  });

  it('a human approval in session A allows the secret in A only, and only for its TTL', () => {
    const approval = ev.approval('bot-1', 'secret-retrieval', T0 + 30 * MIN, T0 + 3, { sessionId: 'A' });
    const o = spec(escalation)
      .given(created, secret, sessionA, sessionB)
      .when(approval)
      .then((x) => {
        expect(x.scope('bot-1')).toEqual(['secrets:read secret/kb@A', 'tickets:read tickets/all']);
        const change = x.out.changes[0]!;
        expect(change.permissions.find((p) => p.action === 'secrets:read')).toMatchObject({ sessions: ['A'], validUntil: new Date(T0 + 30 * MIN).toISOString() });
        expect(change.permissions.find((p) => p.action === 'tickets:read')!.sessions).toBeUndefined();
      });
    expect(o.engine.identity('bot-1')!.approvals[0]).toMatchObject({ human: true, sessionId: 'A' });
    spec(escalation)
      .given(created, secret, sessionA, sessionB, approval)
      .when(tick(T0 + 30 * MIN))
      .then((x) => {
        expect(x.scope('bot-1')).toEqual(['tickets:read tickets/all']);
        expect(x.out.changes[0]).toMatchObject({ direction: 'narrowing' });
      });
  });

  it('an approval for a session ends with the session', () => {
    const approval = ev.approval('bot-1', 'secret-retrieval', T0 + 30 * MIN, T0 + 3, { sessionId: 'A' });
    spec(escalation)
      .given(created, secret, sessionA, approval)
      .when(identityEvent('session.ended', 'bot-1', { sessionId: 'A' }, { id: nextId(), time: T0 + 4 }))
      .then((x) => expect(x.scope('bot-1')).toEqual(['tickets:read tickets/all']));
  });
});
