import type { ScopeChange } from '@livescope/contracts';
import { permKey, type IdentityState } from '@livescope/scope-engine';
import type { ScopeView } from './schemas.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * For each permission in scope, the version at which it last entered the scope: the newest
 * change (of those given, newest first) that added it.
 */
export function sinceVersions(inScope: readonly { readonly action: string; readonly resource: string }[], changesNewestFirst: readonly ScopeChange[]): Map<string, { version: number; at: string }> {
  const wanted = new Set(inScope.map((p) => permKey(p.action, p.resource)));
  const out = new Map<string, { version: number; at: string }>();
  for (const c of changesNewestFirst) {
    if (out.size === wanted.size) break;
    for (const a of c.added) {
      const k = permKey(a.action, a.resource);
      if (wanted.has(k) && !out.has(k)) out.set(k, { version: c.version, at: c.at });
    }
  }
  return out;
}

export function scopeView(s: IdentityState, partition: number, since: ReadonlyMap<string, { version: number; at: string }>, nowMs: number): ScopeView {
  return {
    identityId: s.id,
    version: s.version,
    status: s.status,
    at: iso(s.clock),
    kind: s.kind,
    name: s.name,
    namespace: s.namespace,
    owner: s.owner,
    labels: { ...s.labels },
    roles: [...new Set(s.grants.map((g) => g.role))],
    partition,
    riskScore: s.riskScore,
    permissions: s.scope.map((e) => {
      const from = since.get(e.perm.key);
      return { action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : iso(e.validUntil), grants: [...e.grants], sessions: e.sessions ? [...e.sessions] : null, sinceVersion: from?.version ?? null, since: from?.at ?? null };
    }),
    sessions: s.sessions.map((x) => ({ sessionId: x.sessionId, task: x.task ?? null, mfa: x.mfa, expiresAt: x.expiresAt === undefined ? null : iso(x.expiresAt), attested: x.attested })),
    approvals: s.approvals.filter((a) => a.expiresAt > nowMs).map((a) => ({ approvalId: a.approvalId, escalation: a.escalation, approvedBy: a.approvedBy, expiresAt: iso(a.expiresAt), sessionId: a.sessionId ?? null, human: a.human })),
    leases: s.leases.filter((l) => l.expiresAt > nowMs).map((l) => ({ leaseId: l.leaseId, secretPath: l.secretPath, system: l.system, expiresAt: iso(l.expiresAt) })),
  };
}

/** History page cursors are opaque to clients: the (at, partition, seq) of the last item. */
