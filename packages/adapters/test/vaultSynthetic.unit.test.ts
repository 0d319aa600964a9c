import { describe, expect, it } from 'vitest';
import { AdapterError } from '../src/common/AdapterError.js';
import { mapText } from '../src/common/mapText.js';
import { vaultAdapter } from '../src/vault/vaultAdapter.js';
import { ev, outcomes, RECEIVED_AT } from './support.js';

/**
 * Vault entries in the audit device's format (as in the real samples) for what the samples lack:
 * dynamic-secret leases, renewals, revocations, JWT and Kubernetes logins (Vault 1.15 fields).
 */
const V = 'livescope-adapter/vault';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(V, id, type, subject, time, data);
const TOKEN = 'hmac-sha256:aa11';
const ACCESSOR = 'hmac-sha256:bb22';
const deployerAuth = { client_token: TOKEN, accessor: ACCESSOR, display_name: 'approle', policies: ['db-read', 'default'], token_policies: ['db-read', 'default'], metadata: { role_name: 'deployer' }, entity_id: 'ent-1', token_type: 'service', token_ttl: 300, token_issue_time: '2026-03-01T10:00:00Z' };

function pair(id: string, time: string, request: Record<string, unknown>, opts: { auth?: unknown; response?: unknown; error?: string } = {}): string {
  const base = { auth: opts.auth ?? { token_type: 'default' }, request: { id, namespace: { id: 'root' }, remote_address: '10.0.0.7', ...request } };
  const req = { time, type: 'request', ...base, ...(opts.error ? { error: 'permission denied' } : {}) };
  const res = { time, type: 'response', ...base, response: opts.response ?? {}, ...(opts.error ? { error: opts.error } : {}) };
  return `${JSON.stringify(req)}\n${JSON.stringify(res)}`;
}

const login = pair('r-login', '2026-03-01T10:00:00.000Z', { operation: 'update', path: 'auth/approle/login', mount_type: 'approle' }, { auth: deployerAuth, response: { auth: deployerAuth, mount_type: 'approle' } });
const creds = pair('r-creds', '2026-03-01T10:00:05.000Z', { operation: 'read', path: 'database/creds/readonly', mount_type: 'database', client_token: TOKEN, client_token_accessor: ACCESSOR }, { auth: deployerAuth, response: { secret: { lease_id: 'database/creds/readonly/abc123' }, data: { username: 'hmac-sha256:1', password: 'hmac-sha256:2' }, mount_type: 'database' } });
const renew = pair('r-renew', '2026-03-01T10:01:00.000Z', { operation: 'update', path: 'sys/leases/renew', mount_type: 'system', data: { lease_id: 'database/creds/readonly/abc123', increment: 60 } }, { auth: deployerAuth, response: { secret: { lease_id: 'database/creds/readonly/abc123' } } });
const revokeSelf = pair('r-revoke-self', '2026-03-01T10:02:00.000Z', { operation: 'update', path: 'auth/token/revoke-self', mount_type: 'token' }, { auth: deployerAuth });

describe('vault audit: leases, renewals and revocations (synthetic entries in the audit format)', () => {
  it('maps a login with a TTL, a dynamic-secret lease bound to the token, its renewal and the token revocation', () => {
    expect(outcomes(mapText(vaultAdapter(), [login, creds, renew, revokeSelf].join('\n'), { receivedAt: RECEIVED_AT }))).toEqual([
      {
        events: [
          e('vault:r-login/identity-36176f0968fd6ce5', 'identity.created', 'vault:approle/deployer', '2026-03-01T10:00:00.000Z', { kind: 'workload', name: 'deployer', namespace: 'root', owner: 'unassigned', labels: { source: 'vault', 'vault.auth': 'approle', 'vault.entity_id': 'ent-1' } }),
          e('vault:r-login/session', 'session.started', 'vault:approle/deployer', '2026-03-01T10:00:00.000Z', { sessionId: ACCESSOR, system: 'vault', expiresAt: '2026-03-01T10:05:00.000Z' }),
        ],
      },
      {
        events: [
          // Vault logs no lease duration; the lease cannot outlive its token (10:05).
          e('vault:r-creds/lease', 'secret.lease-created', 'vault:approle/deployer', '2026-03-01T10:00:05.000Z', { leaseId: 'database/creds/readonly/abc123', secretPath: 'database/creds/readonly', system: 'vault', sessionId: ACCESSOR, expiresAt: '2026-03-01T10:05:00.000Z' }),
          e('vault:r-creds/access', 'secret.accessed', 'vault:approle/deployer', '2026-03-01T10:00:05.000Z', { secretPath: 'database/creds/readonly', operation: 'read', system: 'vault', sessionId: ACCESSOR, leaseId: 'database/creds/readonly/abc123' }),
        ],
      },
      { events: [e('vault:r-renew/renew', 'secret.lease-renewed', 'vault:approle/deployer', '2026-03-01T10:01:00.000Z', { leaseId: 'database/creds/readonly/abc123', expiresAt: '2026-03-01T10:02:00.000Z' })] },
      { events: [e('vault:r-revoke-self/ended', 'session.ended', 'vault:approle/deployer', '2026-03-01T10:02:00.000Z', { sessionId: ACCESSOR, reason: 'vault token revoked (revoke-self)' })] },
    ]);
  });

  it('revokes a lease named in the path to its owner, even when an operator revokes it', () => {
    const operator = { client_token: 'hmac-sha256:op', accessor: 'hmac-sha256:opacc', display_name: 'token-operator', policies: ['ops'], token_policies: ['ops'], token_type: 'service' };
    const revoke = pair('r-revoke', '2026-03-01T10:03:00.000Z', { operation: 'update', path: 'sys/leases/revoke/database/creds/readonly/abc123', mount_type: 'system' }, { auth: operator });
    const out = outcomes(mapText(vaultAdapter({ announce: 'never', implicitSessions: false }), [login, creds, revoke].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[2]).toEqual({ events: [e('vault:r-revoke/revoke', 'secret.lease-revoked', 'vault:approle/deployer', '2026-03-01T10:03:00.000Z', { leaseId: 'database/creds/readonly/abc123' })] });
  });

  it('revokes every known lease under a prefix', () => {
    const revoke = pair('r-prefix', '2026-03-01T10:03:00.000Z', { operation: 'update', path: 'sys/leases/revoke-prefix/database/creds/', mount_type: 'system' }, { auth: deployerAuth });
    const out = outcomes(mapText(vaultAdapter({ announce: 'never' }), [login, creds, revoke].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[2]).toEqual({ events: [e('vault:r-prefix/revoke-818281612525', 'secret.lease-revoked', 'vault:approle/deployer', '2026-03-01T10:03:00.000Z', { leaseId: 'database/creds/readonly/abc123' })] });
  });

  it("dead-letters a revocation whose lease id is HMAC'd, and never tries to reverse the HMAC", () => {
    const revoke = pair('r-hmac', '2026-03-01T10:03:00.000Z', { operation: 'update', path: 'sys/leases/revoke', mount_type: 'system', data: { lease_id: 'hmac-sha256:ffee' } }, { auth: deployerAuth });
    const out = outcomes(mapText(vaultAdapter({ announce: 'never', implicitSessions: false }), revoke, { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([{ deadLetter: { reason: 'unsupported', message: "vault revoked a lease whose id is HMAC'd in the audit log; add lease_id to the audit device's audit_non_hmac_request_keys to track it" } }]);
  });

  it('ends the session a revoke-accessor names (matched through the HMAC of the accessor)', () => {
    const operator = { client_token: 'hmac-sha256:op', accessor: 'hmac-sha256:opacc', display_name: 'token-operator', token_type: 'service' };
    const revoke = pair('r-acc', '2026-03-01T10:03:00.000Z', { operation: 'update', path: 'auth/token/revoke-accessor', mount_type: 'token', data: { accessor: ACCESSOR } }, { auth: operator });
    const out = outcomes(mapText(vaultAdapter({ announce: 'never', implicitSessions: false }), [login, revoke].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[1]).toEqual({ events: [e('vault:r-acc/ended', 'session.ended', 'vault:approle/deployer', '2026-03-01T10:03:00.000Z', { sessionId: ACCESSOR, reason: 'vault token revoked (revoke-accessor)' })] });
  });

  it('maps JWT and Kubernetes logins to their identities (Kubernetes auth shares the k8s adapter id)', () => {
    const jwtAuth = { client_token: 'hmac-sha256:j', accessor: 'hmac-sha256:jacc', display_name: 'jwt-tfc-workspace', metadata: { role: 'tfc-deployer' }, token_type: 'service', token_ttl: 1200 };
    const k8sAuth = { client_token: 'hmac-sha256:k', accessor: 'hmac-sha256:kacc', display_name: 'kubernetes-payments-api', metadata: { role: 'payments', service_account_name: 'api', service_account_namespace: 'payments', service_account_uid: 'u-1' }, token_type: 'service' };
    const text = [pair('r-jwt', '2026-03-01T11:00:00.000Z', { operation: 'update', path: 'auth/jwt/login' }, { response: { auth: jwtAuth } }), pair('r-k8s', '2026-03-01T11:00:01.000Z', { operation: 'update', path: 'auth/kubernetes/login' }, { response: { auth: k8sAuth } })].join('\n');
    expect(outcomes(mapText(vaultAdapter({ announce: 'never' }), text, { receivedAt: RECEIVED_AT }))).toEqual([
      { events: [e('vault:r-jwt/session', 'session.started', 'vault:jwt/tfc-deployer', '2026-03-01T11:00:00.000Z', { sessionId: 'hmac-sha256:jacc', system: 'vault', expiresAt: '2026-03-01T11:20:00.000Z' })] },
      { events: [e('vault:r-k8s/session', 'session.started', 'k8s:payments/api', '2026-03-01T11:00:01.000Z', { sessionId: 'hmac-sha256:kacc', system: 'vault' })] },
    ]);
  });

  it('maps a request whose response never came only when it was denied: at end of input, after maxPendingMs, or when evicted', () => {
    const deniedRequest = JSON.stringify({ time: '2026-03-01T12:00:00Z', type: 'request', auth: deployerAuth, request: { id: 'r-lonely', operation: 'read', path: 'secret/prod/db', namespace: { id: 'root' } }, error: 'permission denied' });
    const okRequest = JSON.stringify({ time: '2026-03-01T12:00:00Z', type: 'request', auth: deployerAuth, request: { id: 'r-ok', operation: 'read', path: 'secret/dev/db', namespace: { id: 'root' } } });
    const expected = {
      events: [
        e('vault:r-lonely/session', 'session.started', 'vault:approle/deployer', '2026-03-01T12:00:00.000Z', { sessionId: ACCESSOR, system: 'vault', expiresAt: '2026-03-01T10:05:00.000Z' }),
        e('vault:r-lonely/denied', 'enforcement.decisions', 'vault:approle/deployer', '2026-03-01T12:00:00.000Z', {
          enforcerId: 'vault',
          windowStart: '2026-03-01T12:00:00.000Z',
          windowEnd: '2026-03-01T12:00:00.000Z',
          decisions: [{ action: 'secrets:read', resource: 'secret/prod/db', sessionId: ACCESSOR, allowed: 0, denied: 1, reason: 'permission denied' }],
        }),
      ],
    };
    const atEnd = outcomes(mapText(vaultAdapter({ announce: 'never' }), [deniedRequest, okRequest].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(atEnd).toEqual([expected, { skipped: { code: 'incomplete', field: 'type', message: 'request r-ok without its response entry: its outcome is unknown' } }]);

    const later = JSON.stringify({ time: '2026-03-01T12:05:00Z', type: 'request', auth: deployerAuth, request: { id: 'r-later', operation: 'read', path: 'secret/x', namespace: { id: 'root' } } });
    const adapter = vaultAdapter({ announce: 'never', maxPendingMs: 60_000 });
    let state = adapter.initialState();
    const step = (raw: string) => {
      const s = adapter.step(state, { raw, parsed: { ok: true, value: JSON.parse(raw) } }, { receivedAt: RECEIVED_AT });
      state = s.state;
      return outcomes(s.results);
    };
    expect(step(deniedRequest)).toEqual([]);
    expect(step(later)).toEqual([expected]); // five minutes of log time later

    const small = vaultAdapter({ announce: 'never', memoryEntries: 1 });
    let st = small.initialState();
    st = small.step(st, { raw: deniedRequest, parsed: { ok: true, value: JSON.parse(deniedRequest) } }, { receivedAt: RECEIVED_AT }).state;
    const evicted = small.step(st, { raw: okRequest, parsed: { ok: true, value: JSON.parse(okRequest) } }, { receivedAt: RECEIVED_AT });
    expect(outcomes(evicted.results)).toEqual([expected]);
  });

  it('dead-letters what it cannot map and keeps going', () => {
    const kmip = JSON.stringify({ time: '2026-03-01T12:00:00Z', type: 'kmip-request', request: { id: 'k1', path: 'kmip/scope/s/role/r' } });
    const text = ['this is not json', '{"time": "2026-03-01T12:00:00Z", "type": "response"}', kmip, login].join('\n');
    const out = outcomes(mapText(vaultAdapter({ announce: 'never' }), text, { receivedAt: RECEIVED_AT }));
    expect(out.map((o) => ('deadLetter' in o ? o.deadLetter.reason : 'events' in o ? 'events' : 'skipped'))).toEqual(['not-json', 'schema-invalid', 'unsupported', 'events']);
    expect(out[1]).toEqual({ deadLetter: { reason: 'schema-invalid', message: 'not a Vault audit entry: request: Invalid input: expected object, received undefined' } });
  });

  it('refuses to step the same state twice (the reducer state is linear)', () => {
    const adapter = vaultAdapter();
    const s0 = adapter.initialState();
    adapter.step(s0, { raw: '{}', parsed: { ok: true, value: {} } }, { receivedAt: RECEIVED_AT });
    expect(() => adapter.step(s0, { raw: '{}', parsed: { ok: true, value: {} } }, { receivedAt: RECEIVED_AT })).toThrow(AdapterError);
  });
});
