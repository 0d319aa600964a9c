import { describe, expect, it } from 'vitest';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { expiryOf } from '../../events/expiry.js';
import { approvalGrantedEvent } from '../approvals/index.js';
import { orderIssuedEvent, orderLiftedEvent } from './orderEvents.js';
import { IssueOrderRequest } from './schemas.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const H = 3_600_000;
const ids = { orderId: 'o-1', eventId: 'cp-1', actor: 'alice', nowMs: NOW, maxTtlMs: 24 * H };

const pathsOf = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (e) {
    if (ControlPlaneError.is(e)) return e.paths;
    throw e;
  }
  throw new Error('expected an error');
};

describe('order events', () => {
  it('builds a validated order.issued broadcast with the actor, TTL as an absolute expiry', () => {
    const e = orderIssuedEvent(IssueOrderRequest.parse({ kind: 'read-only', target: { selector: { namespace: 'payments', kind: 'workload' } }, reason: 'INC-7', ttlSeconds: 7200 }), ids);
    expect(e).toMatchObject({ type: 'order.issued', id: 'cp-1', source: 'livescope/control-plane', time: new Date(NOW).toISOString() });
    expect(e.data).toEqual({ orderId: 'o-1', kind: 'read-only', target: { selector: { namespace: 'payments', kind: 'workload' } }, reason: 'INC-7', actor: 'alice', expiresAt: new Date(NOW + 2 * H).toISOString() });
    expect('subject' in e).toBe(false);
  });

  it('carries what each kind needs and nothing else', () => {
    const deny = orderIssuedEvent(IssueOrderRequest.parse({ kind: 'deny-actions', target: { identityId: 'w1' }, actions: ['db:write'], reason: 'r' }), ids);
    expect(deny.data).toMatchObject({ actions: ['db:write'] });
    expect(deny.data.expiresAt).toBeUndefined();
    const leases = orderIssuedEvent(IssueOrderRequest.parse({ kind: 'revoke-secret-leases', secretPath: 'secret/db', reason: 'leaked' }), ids);
    expect(leases.data).toMatchObject({ target: { all: true }, secretPath: 'secret/db' });
    const session = orderIssuedEvent(IssueOrderRequest.parse({ kind: 'revoke-session', target: { identityId: 'w1' }, sessionId: 's1', reason: 'r' }), ids);
    expect(session.data).toMatchObject({ sessionId: 's1', target: { identityId: 'w1' } });
    expect(() => IssueOrderRequest.parse({ kind: 'revoke-session', target: { all: true }, sessionId: 's1', reason: 'r' })).toThrow();
    expect(() => IssueOrderRequest.parse({ kind: 'deny-actions', target: { identityId: 'w1' }, actions: [], reason: 'r' })).toThrow();
  });

  it('refuses expiries in the past, beyond the maximum TTL, or given twice', () => {
    expect(pathsOf(() => expiryOf({ ttlSeconds: 25 * 3600 }, NOW, 24 * H))).toEqual(['ttlSeconds']);
    expect(pathsOf(() => expiryOf({ expiresAt: new Date(NOW - 1).toISOString() }, NOW, 24 * H))).toEqual(['expiresAt']);
    expect(pathsOf(() => expiryOf({ expiresAt: new Date(NOW + 25 * H).toISOString() }, NOW, 24 * H))).toEqual(['expiresAt']);
    expect(pathsOf(() => expiryOf({ ttlSeconds: 5, expiresAt: new Date(NOW + H).toISOString() }, NOW, 24 * H))).toEqual(['ttlSeconds', 'expiresAt']);
    expect(expiryOf({}, NOW, H)).toBeUndefined();
  });

  it('builds lifts and approvals', () => {
    expect(orderLiftedEvent('o-1', 'bob', 'resolved', { eventId: 'cp-2', nowMs: NOW }).data).toEqual({ orderId: 'o-1', actor: 'bob', reason: 'resolved' });
    const approver = { kind: 'human' as const, subject: 'carol', issuer: 'livescope', evidence: 'oidc-id-token' as const };
    const a = approvalGrantedEvent('bot-1', { escalation: 'secret-retrieval', ttlSeconds: 900 }, { eventId: 'cp-3', nowMs: NOW, approvalId: 'ap-1', approvedBy: 'carol', approver, maxTtlMs: H });
    expect(a).toMatchObject({ type: 'session.approval-granted', subject: 'bot-1', data: { approvalId: 'ap-1', escalation: 'secret-retrieval', approvedBy: 'carol', approver, expiresAt: new Date(NOW + 900_000).toISOString() } });
    expect(pathsOf(() => approvalGrantedEvent('bot-1', { escalation: 'x' }, { eventId: 'e', nowMs: NOW, approvalId: 'a', approvedBy: 'c', approver, maxTtlMs: H }))).toEqual(['ttlSeconds']);
  });
});
