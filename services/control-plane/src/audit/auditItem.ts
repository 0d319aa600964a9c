import { Cause, DriftAlertType, IdentityStatus, Instant, PermissionDelta, RevocationTarget, Severity, type DriftAlert, type Revocation, type ScopeChange } from '@livescope/contracts';
import type { AuditRecord } from '@livescope/store';
import { z } from 'zod';
import { component } from '../http/schemas.js';

/**
 * Rows of the workers' audit log as the API shows them, with their causes in a few words: an
 * identity's history and the fleet-wide change feed are both made of these.
 */
export const HistoryItem = component(
  'HistoryItem',
  z.object({
    at: Instant,
    kind: z.string(),
    version: z.number().int().nullable(),
    actor: z.string().nullable(),
    eventId: z.string().nullable(),
    summary: z.string(),
    cause: Cause.nullable(),
    direction: z.enum(['narrowing', 'widening', 'mixed', 'refresh']).nullable(),
    added: z.array(PermissionDelta),
    removed: z.array(PermissionDelta),
    revocation: RevocationTarget.nullable(),
    alert: z.object({ alertId: z.string(), type: DriftAlertType, severity: Severity }).nullable(),
    scopeSize: z.number().int().nullable().describe('Permissions in scope after a scope change (null for other kinds).'),
    status: IdentityStatus.nullable().describe('Identity status after a scope change (null for other kinds).'),
    partition: z.number().int(),
    seq: z.number().int(),
  }),
);
export type HistoryItem = z.infer<typeof HistoryItem>;

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

