import type { Cause, DriftAlert, PermissionDelta, Revocation, ScopeChange } from '@livescope/contracts';
import { permKey, type Globals, type IdentityState } from '@livescope/scope-engine';
import type { AuditRecord } from '@livescope/store';
import type { ActiveOrderView, AlertView, ChangeItem, EnforcerView, FleetSummary, HistoryItem, ScopeView } from '../api/schemas.js';
import { ControlPlaneError } from '../ControlPlaneError.js';
import type { AlertRow, CensusRow, EnforcerRow, HistoryCursor } from '../persistence/ControlPlaneStore.js';
import type { Staleness } from '../tracking/CommandTracker.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Orders in force across partitions. Every partition holds the same org-wide state once its worker
 * processed the broadcast; `holding` says how many do. Expired orders are left out.
 */
export function activeOrders(partitions: readonly { readonly globals: Globals | null }[], nowMs: number): ActiveOrderView[] {
  const byId = new Map<string, { view: ActiveOrderView; holding: number }>();
  for (const p of partitions) {
    if (!p.globals) continue;
    for (const o of p.globals.orders.values()) {
      if (o.expiresAt !== undefined && o.expiresAt <= nowMs) continue;
      const seen = byId.get(o.orderId);
      if (seen) {
        seen.holding++;
        continue;
      }
      byId.set(o.orderId, {
        holding: 1,
        view: { orderId: o.orderId, kind: o.kind, target: o.target, actions: [...o.actions], issuedAt: iso(o.issuedAt), expiresAt: o.expiresAt === undefined ? null : iso(o.expiresAt), actor: o.actor, reason: o.reason, partitions: { holding: 0, total: partitions.length } },
      });
    }
  }
  return [...byId.values()].map(({ view, holding }) => ({ ...view, partitions: { holding, total: partitions.length } })).sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : a.issuedAt > b.issuedAt ? -1 : a.orderId.localeCompare(b.orderId)));
}

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
      return { action: e.perm.action, resource: e.perm.resource, access: e.perm.access, validUntil: e.validUntil === null ? null : iso(e.validUntil), grants: [...e.grants], sinceVersion: from?.version ?? null, since: from?.at ?? null };
    }),
    sessions: s.sessions.map((x) => ({ sessionId: x.sessionId, task: x.task ?? null, mfa: x.mfa, expiresAt: x.expiresAt === undefined ? null : iso(x.expiresAt) })),
    approvals: s.approvals.filter((a) => a.expiresAt > nowMs).map((a) => ({ approvalId: a.approvalId, escalation: a.escalation, approvedBy: a.approvedBy, expiresAt: iso(a.expiresAt) })),
    leases: s.leases.filter((l) => l.expiresAt > nowMs).map((l) => ({ leaseId: l.leaseId, secretPath: l.secretPath, system: l.system, expiresAt: iso(l.expiresAt) })),
  };
}

/** Why, in a few words: the orders and actor, the input event, or the clock. */
export function describeCause(c: Cause): string {
  const parts: string[] = [];
  if (c.orderIds?.length) parts.push(`order ${c.orderIds.join(', ')}${c.eventType === 'order.lifted' ? ' lifted' : ''}`);
  else if (c.timer) parts.push('time (validUntil passed)');
  else if (c.eventType) parts.push(c.eventType);
  if (c.policyIds?.length) parts.push(`policies ${c.policyIds.join(', ')}`);
  if (c.actor) parts.push(`by ${c.actor}`);
  return parts.join(' ') || 'unknown cause';
}

/** Orders a change names anywhere: the engine puts lifted orders in the causes of the added permissions only. */
export function orderIdsOf(c: Pick<ScopeChange, 'cause' | 'added' | 'removed'>): string[] {
  return [...new Set([...(c.cause.orderIds ?? []), ...c.added.flatMap((a) => a.cause.orderIds ?? []), ...c.removed.flatMap((r) => r.cause.orderIds ?? [])])];
}

const listPerms = (ps: readonly PermissionDelta[]): string => {
  const shown = ps.slice(0, 3).map((p) => `${p.action} ${p.resource}`);
  return shown.join(', ') + (ps.length > 3 ? ` and ${ps.length - 3} more` : '');
};

export function historyItem(r: AuditRecord): HistoryItem {
  const base = { at: r.at, kind: r.kind, version: r.version, actor: r.actor, eventId: r.eventId, partition: r.partition, seq: r.seq, direction: null, added: [], removed: [], revocation: null, alert: null, cause: null, scopeSize: null, status: null };
  const payload = JSON.parse(r.payload) as unknown;
  switch (r.kind) {
    case 'scope.change': {
      const c = payload as ScopeChange;
      const what = [c.added.length ? `added ${listPerms(c.added)}` : '', c.removed.length ? `removed ${listPerms(c.removed)}` : ''].filter(Boolean).join('; ') || (c.status !== 'active' ? `status ${c.status}` : 'sessions or validity changed');
      return { ...base, direction: c.direction, added: c.added, removed: c.removed, cause: c.cause, scopeSize: c.permissions.length, status: c.status, summary: `v${c.version} ${c.direction}: ${what} — ${describeCause({ ...c.cause, orderIds: orderIdsOf(c) })}` };
    }
    case 'revocation': {
      const v = payload as Revocation;
      return { ...base, revocation: v.target, cause: v.cause, summary: `revoked ${v.target.type} ${v.target.id} (${v.target.system}): ${v.reason} — ${describeCause(v.cause)}` };
    }
    case 'drift.alert': {
      const a = payload as DriftAlert;
      return { ...base, alert: { alertId: a.alertId, type: a.type, severity: a.severity }, cause: a.cause, summary: `${a.severity} ${a.type}: ${a.summary}` };
    }
    default:
      return { ...base, summary: r.kind };
  }
}

/** History page cursors are opaque to clients: the (at, partition, seq) of the last item. */
export function encodeCursor(c: HistoryCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.partition, c.seq])).toString('base64url');
}

export function decodeCursor(text: string): HistoryCursor {
  try {
    const [at, partition, seq] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && Number.isInteger(partition) && Number.isInteger(seq)) return { at, partition: partition as number, seq: seq as number };
  } catch {
    // fall through
  }
  throw new ControlPlaneError('INVALID_REQUEST', 'query.before: not a cursor returned by this API', { paths: ['query.before'] });
}

/** A scope change or revocation of the fleet-wide change feed. */
export function changeItem(r: AuditRecord): ChangeItem {
  return { ...historyItem(r), identityId: r.identityId ?? '' };
}

export function alertView(r: AlertRow): AlertView {
  const a = r.alert;
  return { id: r.seq, alertId: a.alertId, type: a.type, severity: a.severity, identityId: a.identityId ?? null, enforcerId: a.enforcerId ?? null, at: a.at, summary: a.summary, details: a.details, cause: a.cause, receivedAt: r.receivedAt, acknowledgement: r.ack };
}

/**
 * Positions in the audit log are opaque to clients (SSE ids): `partition:seq` pairs, comma-separated,
 * the last sequence number read per partition.
 */
export function encodeAuditCursor(c: ReadonlyMap<number, number>): string {
  const parts = [...c].sort(([a], [b]) => a - b).map(([p, seq]) => `${p}:${seq}`);
  return parts.length ? parts.join(',') : '0:0';
}

export function decodeAuditCursor(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const pair of text.split(',')) {
    const m = /^(\d{1,6}):(\d{1,19})$/.exec(pair.trim());
    const seq = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(seq)) throw new ControlPlaneError('INVALID_REQUEST', 'Last-Event-ID: not a position returned by this API', { paths: ['query.lastEventId'] });
    out.set(Number(m[1]), seq);
  }
  return out;
}

const SIZE_BUCKETS: readonly { label: string; min: number; max: number | null }[] = [
  { label: '0', min: 0, max: 0 },
  { label: '1', min: 1, max: 1 },
  { label: '2', min: 2, max: 2 },
  { label: '3', min: 3, max: 3 },
  { label: '4–5', min: 4, max: 5 },
  { label: '6–10', min: 6, max: 10 },
  { label: '11–20', min: 11, max: 20 },
  { label: '21–50', min: 21, max: 50 },
  { label: '> 50', min: 51, max: null },
];

/** Totals, breakdowns and the scope-size histogram of the fleet from its census groups. */
export function fleetCensus(rows: readonly CensusRow[]): Pick<FleetSummary, 'identities' | 'byStatus' | 'byKind' | 'byNamespace' | 'permissionsInScope' | 'openSessions' | 'scopeSizes'> {
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const byNamespace: Record<string, number> = {};
  const sizes = SIZE_BUCKETS.map((b) => ({ ...b, identities: 0 }));
  let identities = 0;
  let permissionsInScope = 0;
  let openSessions = 0;
  for (const r of rows) {
    identities += r.identities;
    permissionsInScope += r.scopeSize * r.identities;
    openSessions += r.sessions;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + r.identities;
    byKind[r.kind] = (byKind[r.kind] ?? 0) + r.identities;
    byNamespace[r.namespace] = (byNamespace[r.namespace] ?? 0) + r.identities;
    const b = sizes.find((x) => r.scopeSize >= x.min && (x.max === null || r.scopeSize <= x.max));
    if (b) b.identities += r.identities;
  }
  return { identities, byStatus, byKind, byNamespace, permissionsInScope, openSessions, scopeSizes: sizes };
}

const severityOrder = ['low', 'medium', 'high', 'critical'] as const;
/** Severities at or above `min`. */
export function severitiesFrom(min: (typeof severityOrder)[number]): string[] {
  return severityOrder.slice(severityOrder.indexOf(min));
}

export function enforcerView(row: EnforcerRow, staleness: Staleness | undefined, nowMs: number, livenessMs: number): EnforcerView {
  const silenceMs = Math.max(0, nowMs - Date.parse(row.lastSeen));
  return {
    enforcerId: row.enforcerId,
    live: silenceMs <= livenessMs,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    silenceMs,
    identities: row.identities,
    applied: row.applied,
    rejected: row.rejected,
    lastApplied: row.lastApplied,
    lag: row.lag,
    stalenessMs: staleness ? staleness.behindMs : null,
    pendingCommands: staleness ? staleness.pendingCommands : null,
  };
}
