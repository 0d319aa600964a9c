import { broadcastEvent, identityEvent, type LivescopeEvent } from '@livescope/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeScope } from './computeScope.js';
import { emptyOutput } from './EngineOutput.js';
import { ScopeEngine } from './ScopeEngine.js';
import { PolicyInput, type ScopePolicy } from './ScopePolicy.js';
import { toScopePermission } from './ScopeEngine.js';

/**
 * Property: after any sequence of events (and timer ticks), the incrementally maintained scope of
 * every identity equals a full recompute from scratch on its final state. Incremental skipping
 * (unread inputs, unaffected identities) must never change an answer.
 */
const T0 = Date.parse('2026-11-28T12:00:00Z');
const ids = ['a', 'b', 'c'];
const perms = [
  { action: 'db:read', resource: 'db/x', access: 'read' as const, namespace: 'pay' },
  { action: 'db:write', resource: 'db/x', access: 'write' as const, namespace: 'pay' },
  { action: 'secrets:read', resource: 'secret/x', access: 'read' as const, namespace: 'ops' },
  { action: 'k8s:deploy', resource: 'k8s/pay', access: 'write' as const, namespace: 'pay' },
];

// A policy set in the spirit of the seed policies, reading approvals, risk, sessions and windows.
const policy: ScopePolicy = {
  version: 1,
  fingerprints: new Map([['p', '1']]),
  decide: (p, r, c) => {
    if (r.action === 'secrets:read' && !c.approvals.includes('secret-retrieval')) return { allow: false, determining: ['escalation'], errors: [] };
    if (r.access !== 'read' && (c.riskScore >= 80 || p.riskScore >= 80)) return { allow: false, determining: ['risk'], errors: [] };
    if (r.action === 'k8s:deploy' && !(r.namespace !== undefined && c.releaseWindows.includes(r.namespace))) return { allow: false, determining: ['window'], errors: [] };
    if (c.grant.jit && !c.session.active) return { allow: false, determining: ['jit-session'], errors: [] };
    return { allow: true, determining: ['base'], errors: [] };
  },
  horizon: () => null,
  reads: (i) => i !== PolicyInput.anomalies && i !== PolicyInput.humanUse && i !== PolicyInput.now && i !== PolicyInput.incidents,
  scopeHint: () => ({}),
};

type Step = { kind: 'event'; make: (n: number, t: number) => LivescopeEvent } | { kind: 'tick' };

const at = (t: number): string => new Date(t).toISOString();
const arbId = fc.constantFrom(...ids);
const arbPerm = fc.constantFrom(...perms);
const arbSession = fc.constantFrom('s1', 's2');
const arbDur = fc.integer({ min: 1, max: 30 }).map((m) => m * 60_000);

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: 'tick' }),
  fc.record({ id: arbId, p: fc.array(arbPerm, { minLength: 1, maxLength: 3 }), g: fc.constantFrom('g1', 'g2') }).map(({ id, p, g }): Step => ({ kind: 'event', make: (n, t) => identityEvent('entitlement.granted', id, { grantId: `${id}-${g}`, role: g, permissions: p }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, g: fc.constantFrom('g1', 'g2') }).map(({ id, g }): Step => ({ kind: 'event', make: (n, t) => identityEvent('entitlement.revoked', id, { grantId: `${id}-${g}` }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, p: arbPerm, d: arbDur, s: fc.option(arbSession, { nil: undefined }) }).map(({ id, p, d, s }): Step => ({ kind: 'event', make: (n, t) => identityEvent('jit.granted', id, { grantId: `${id}-j${n}`, permissions: [p], expiresAt: at(t + d), sessionId: s }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, s: arbSession, d: fc.option(arbDur, { nil: undefined }) }).map(({ id, s, d }): Step => ({ kind: 'event', make: (n, t) => identityEvent('session.started', id, { sessionId: s, expiresAt: d === undefined ? undefined : at(t + d) }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, s: arbSession }).map(({ id, s }): Step => ({ kind: 'event', make: (n, t) => identityEvent('session.ended', id, { sessionId: s }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, s: arbSession }).map(({ id, s }): Step => ({ kind: 'event', make: (n, t) => identityEvent('session.task-completed', id, { sessionId: s }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, d: arbDur }).map(({ id, d }): Step => ({ kind: 'event', make: (n, t) => identityEvent('session.approval-granted', id, { approvalId: `ap${n}`, escalation: 'secret-retrieval', approvedBy: 'x', expiresAt: at(t + d) }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, score: fc.constantFrom(0, 50, 90) }).map(({ id, score }): Step => ({ kind: 'event', make: (n, t) => identityEvent('telemetry.risk-scored', id, { score }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId, d: arbDur }).map(({ id, d }): Step => ({ kind: 'event', make: (n, t) => identityEvent('telemetry.anomaly-detected', id, { anomalyId: `an${n}`, kind: 'geo', severity: 'low', expiresAt: at(t + d) }, { id: `e${n}`, time: t }) })),
  fc.record({ id: arbId }).map(({ id }): Step => ({ kind: 'event', make: (n, t) => identityEvent('telemetry.token-replay-detected', id, { tokenId: `tok${n}`, sessionId: 's1' }, { id: `e${n}`, time: t }) })),
  fc.record({ kind: fc.constantFrom('read-only' as const, 'quarantine' as const, 'deny-actions' as const), sel: fc.oneof(arbId.map((identityId) => ({ identityId })), fc.constant({ selector: { namespace: 'pay' } })), d: fc.option(arbDur, { nil: undefined }) }).map(
    ({ kind, sel, d }): Step => ({ kind: 'event', make: (n, t) => broadcastEvent('order.issued', { orderId: `o${n % 3}`, kind, target: sel, actions: ['db:read'], expiresAt: d === undefined ? undefined : at(t + d), reason: 'r', actor: 'x' }, { id: `e${n}`, time: t }) }),
  ),
  fc.integer({ min: 0, max: 2 }).map((k): Step => ({ kind: 'event', make: (n, t) => broadcastEvent('order.lifted', { orderId: `o${k}`, actor: 'x' }, { id: `e${n}`, time: t }) })),
  fc.record({ d: arbDur, ns: fc.constantFrom('pay', 'ops') }).map(({ d, ns }): Step => ({ kind: 'event', make: (n, t) => broadcastEvent('org.release-window', { windowId: `w${n}`, namespace: ns, startsAt: at(t + d / 2), endsAt: at(t + d), signedBy: 'rm', signature: 'x'.repeat(20) }, { id: `e${n}`, time: t }) })),
);

describe('incremental maintenance equals a full recompute', () => {
  it('for any sequence of events and ticks', () => {
    let cases = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(arbStep, fc.integer({ min: 0, max: 10 * 60_000 })), { minLength: 1, maxLength: 60 }), (steps) => {
        cases++;
        const engine = new ScopeEngine({ compilePolicies: () => policy, verifyReleaseWindow: () => true });
        engine.load({ identities: [], policies: { version: 1, files: [] } });
        const out = emptyOutput();
        let t = T0;
        for (const id of ids) engine.handle(identityEvent('identity.created', id, { kind: 'workload', name: id, namespace: 'pay', owner: 'o' }, { id: `create-${id}`, time: t }), { timestampMs: t }, out);
        let n = 0;
        const log: string[] = [];
        for (const [step, dt] of steps) {
          t += dt;
          if (step.kind === 'tick') {
            engine.tick(t, out);
            log.push(`tick @${(t - T0) / 60_000}m`);
          } else {
            const e = step.make(++n, t);
            engine.handle(e, { timestampMs: t }, out);
            log.push(`${e.type} @${(t - T0) / 60_000}m ${'subject' in e ? e.subject : ''} ${JSON.stringify(e.data)}`);
          }
        }
        for (const s of engine.allIdentities()) {
          const full = computeScope(s, engine.globals, policy, s.clock, engine.config);
          const same = JSON.stringify(s.scope.map(toScopePermission)) === JSON.stringify(full.entries.map(toScopePermission));
          if (!same && process.env.LIVESCOPE_PROPERTY_DEBUG) process.stdout.write(`identity ${s.id} clock @${(s.clock - T0) / 60_000}m wakeAt ${s.wakeAt === null ? null : (s.wakeAt - T0) / 60_000}\n${log.join('\n')}\n`);
          expect(s.scope.map(toScopePermission)).toEqual(full.entries.map(toScopePermission));
        }
      }),
      { numRuns: Number(process.env.LIVESCOPE_PROPERTY_RUNS ?? 500), seed: process.env.LIVESCOPE_PROPERTY_SEED ? Number(process.env.LIVESCOPE_PROPERTY_SEED) : undefined },
    );
    process.stdout.write(`incrementality property: ${cases} random event sequences, incremental scope == full recompute for every identity\n`);
  });
});
