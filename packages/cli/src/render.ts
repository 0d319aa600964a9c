import type * as S from '@livescope/control-plane/api-types';
import { describeTarget } from './parse.js';
import { formatInstant, formatMs, formatTable } from './table.js';


export function renderOrderAccepted(o: S.OrderAccepted): string {
  return `order ${o.orderId} accepted: ${o.kind} on ${describeTarget(o.target)} by ${o.actor}, ${o.expiresAt ? `expires ${formatInstant(o.expiresAt)}` : 'until lifted'}\n  durable on ${o.partitions} partition(s); follow it with: livescope order ${o.orderId}\n`;
}

export function renderLiftAccepted(o: S.LiftAccepted): string {
  return `lift of order ${o.orderId} accepted (by ${o.actor}); follow it with: livescope order ${o.orderId}\n`;
}

export function renderOrders(l: S.OrdersList, nowMs = Date.now()): string {
  if (l.orders.length === 0) return `no order in force (${l.partitions} partitions)\n`;
  return formatTable(
    ['ORDER', 'KIND', 'TARGET', 'ACTOR', 'ISSUED', 'EXPIRES', 'HELD BY', 'REASON'],
    l.orders.map((o) => [o.orderId, o.kind === 'deny-actions' ? `deny ${o.actions.join(',')}` : o.kind, describeTarget(o.target), o.actor, formatInstant(o.issuedAt, nowMs), o.expiresAt ? formatInstant(o.expiresAt, nowMs) : 'until lifted', `${o.partitions.holding}/${o.partitions.total}`, o.reason]),
  );
}

/** One line of progress: partitions processed, identities changed, enforcement points applied. */
export function progressLine(s: S.OrderStatus): string {
  const p = s.lift ?? s.issue;
  const what = s.lift ? 'lift' : 'order';
  if (!p) return `${what} ${s.orderId}: not seen yet`;
  const parts = p.partitions ? `${p.partitions.processed}/${p.partitions.total} partitions processed` : 'partitions unknown';
  const state = p.complete ? 'complete' : 'in progress';
  return `${what} ${s.orderId}: ${parts} · ${p.identitiesChanged} identit${p.identitiesChanged === 1 ? 'y' : 'ies'} changed (${p.changes} changes, ${p.revocations} revocations) · applied by ${p.enforcers.applied}/${p.enforcers.known} enforcement points · ${state}`;
}

export function renderStatus(s: S.OrderStatus, nowMs = Date.now()): string {
  const lines = [
    `order ${s.orderId}: ${s.kind} on ${describeTarget(s.target)} by ${s.actor} — ${s.reason}`,
    `  issued ${formatInstant(s.issuedAt, nowMs)}, ${s.expiresAt ? `expires ${formatInstant(s.expiresAt, nowMs)}` : 'until lifted'}; in force on ${s.inForce.holding}/${s.inForce.total} partitions`,
  ];
  const block = (label: string, p: S.Progress | null): void => {
    if (!p) return;
    lines.push(`  ${label}: ${p.partitions ? `${p.partitions.processed}/${p.partitions.total} partitions processed` : 'partitions unknown'}${p.complete ? ', complete' : ''}`);
    lines.push(`    ${p.identitiesChanged} identit${p.identitiesChanged === 1 ? 'y' : 'ies'} changed: ${p.changes} scope change${p.changes === 1 ? '' : 's'}, ${p.revocations} revocation${p.revocations === 1 ? '' : 's'}${p.truncated ? ' (truncated)' : ''}`);
    lines.push(`    applied by ${p.enforcers.applied} of ${p.enforcers.known} enforcement points${p.enforcers.appliedBy.length ? `: ${p.enforcers.appliedBy.join(', ')}` : ''}${p.enforcers.pending.length ? `; pending: ${p.enforcers.pending.join(', ')}` : ''}`);
  };
  block('issue', s.issue);
  if (s.lift) block(`lift by ${s.lift.actor}${s.lift.reason ? ` (${s.lift.reason})` : ''}`, s.lift);
  return lines.join('\n') + '\n';
}

export function renderScope(v: S.ScopeView, nowMs = Date.now()): string {
  const head = `${v.identityId} (${v.kind} ${v.name}, namespace ${v.namespace}, owner ${v.owner}) — ${v.status}, scope version ${v.version}, risk ${v.riskScore}${v.roles.length ? `, roles ${v.roles.join(', ')}` : ''}\n`;
  const perms = v.permissions.length
    ? formatTable(['ACTION', 'RESOURCE', 'ACCESS', 'VALID UNTIL', 'SINCE', 'GRANTS', 'ONLY IN SESSION'], v.permissions.map((p) => [p.action, p.resource, p.access, p.validUntil ? formatInstant(p.validUntil, nowMs) : 'no expiry', p.sinceVersion === null ? '?' : `v${p.sinceVersion}`, p.grants.join(','), p.sessions ? p.sessions.join(',') : 'any']))
    : '(no permission in scope)\n';
  const sessions = v.sessions.length ? `sessions: ${v.sessions.map((s) => `${s.sessionId}${s.task ? ` [${s.task}]` : ''}${s.attested ? '' : ' (observed, not accepted)'}${s.expiresAt ? ` until ${formatInstant(s.expiresAt, nowMs)}` : ''}`).join('; ')}\n` : '';
  const approvals = v.approvals.length ? `approvals: ${v.approvals.map((a) => `${a.approvalId} ${a.escalation} by ${a.approvedBy}${a.human ? '' : ' (unverified)'}${a.sessionId ? ` for session ${a.sessionId}` : ''} until ${formatInstant(a.expiresAt, nowMs)}`).join('; ')}\n` : '';
  const leases = v.leases.length ? `leases: ${v.leases.map((l) => `${l.leaseId} ${l.secretPath}`).join('; ')}\n` : '';
  return head + perms + sessions + approvals + leases;
}

export function renderPastScope(v: S.PastScopeView): string {
  const head = `${v.identityId} at version ${v.version} (${v.at}, ${v.direction} from v${v.previousVersion}) — ${v.status}\n`;
  const perms = v.permissions.length ? formatTable(['ACTION', 'RESOURCE', 'ACCESS', 'VALID UNTIL', 'GRANTS', 'ONLY IN SESSION'], v.permissions.map((p) => [p.action, p.resource, p.access, p.validUntil ?? 'no expiry', p.grants.join(','), p.sessions ? p.sessions.join(',') : 'any'])) : '(no permission in scope)\n';
  return head + perms + (v.sessions.length ? `sessions: ${v.sessions.join(', ')}\n` : '');
}

export function renderExplanation(e: S.Explanation): string {
  const lines = [`${e.allowed ? 'ALLOWED' : 'DENIED'}: ${e.identityId} ${e.action} on ${e.resource}${e.session ? ` in session ${e.session}` : ''} — ${e.summary}`, `  identity ${e.status}, scope version ${e.version}, evaluated at ${e.at}`];
  if (e.boundToSessions) lines.push(`  only in session${e.boundToSessions.length === 1 ? '' : 's'}: ${e.boundToSessions.join(', ')}`);
  lines.push(e.provisioned.length ? `  provisioned by: ${e.provisioned.map((g) => (g.jit ? `${g.grantId} (just-in-time until ${g.expiresAt ?? '?'})` : `${g.grantId} (role ${g.role ?? '?'})`)).join(', ')}` : '  provisioned by: nothing (not provisioned)');
  if (e.orders.length) lines.push(`  orders: ${e.orders.map((o) => `${o.orderId} ${o.kind} by ${o.actor} (${o.reason})${o.expiresAt ? ` until ${o.expiresAt}` : ''}`).join('; ')}`);
  lines.push(`  policies (set v${e.policies.policySetVersion}${e.policies.policySetVersion === 0 ? ': none published, provisioned permissions are permitted' : ''}): ${e.policies.determining.join(', ') || 'none determining'}${e.policies.errors.length ? `; errors: ${e.policies.errors.join(', ')}` : ''}`);
  if (e.context) {
    const c = e.context;
    lines.push(`  context: session ${c.session.active ? `active (${c.session.count}${c.session.mfa ? ', mfa' : ''}${c.session.tasks.length ? `, tasks ${c.session.tasks.join(',')}` : ''})` : 'none'}, approvals [${c.approvals.join(', ')}] (by a human [${c.humanApprovals.join(', ')}]), risk ${c.riskScore}, anomalies [${c.anomalies.join(', ')}], human use ${c.humanUseDetected}, release windows [${c.releaseWindows.join(', ')}], incidents [${c.incidentNamespaces.join(', ')}], grant ${c.grant.jit ? 'just-in-time' : `roles ${c.grant.roles.join(',')}`}`);
  }
  lines.push(`  holds until: ${e.validUntil ?? 'a new event changes it'}`);
  return lines.join('\n') + '\n';
}

export function renderHistory(h: S.History): string {
  if (h.items.length === 0) return `no history for ${h.identityId}\n`;
  return formatTable(['AT', 'VERSION', 'KIND', 'ACTOR', 'SUMMARY'], h.items.map((i) => [i.at, i.version === null ? '' : `v${i.version}`, i.kind, i.actor, i.summary]), 120) + (h.nextCursor ? `more: --cursor ${h.nextCursor}\n` : '');
}

export function alertRow(a: S.AlertView): (string | null)[] {
  return [a.id, a.at, a.severity, a.type, a.identityId ?? (a.enforcerId ? `enforcer ${a.enforcerId}` : null), a.summary];
}
export const ALERT_HEADERS = ['ID', 'AT', 'SEVERITY', 'TYPE', 'IDENTITY', 'SUMMARY'];

export function renderAlerts(l: S.AlertsList): string {
  if (l.alerts.length === 0) return 'no alerts\n';
  return formatTable(ALERT_HEADERS, l.alerts.map(alertRow), 100) + (l.nextCursor ? `more: --cursor ${l.nextCursor}\n` : '');
}

export function renderAlertLine(a: S.AlertView): string {
  return `${a.at}  #${a.id}  ${a.severity.toUpperCase()}  ${a.type}  ${a.identityId ?? a.enforcerId ?? '-'}  ${a.summary}\n`;
}

export function renderEnforcers(l: S.EnforcersList): string {
  if (l.enforcers.length === 0) return 'no enforcement point has reported yet\n';
  return (
    formatTable(
      ['ENFORCER', 'LIVE', 'SIGNED', 'LAST SEEN', 'IDENTITIES', 'APPLIED', 'REJECTED', 'LAG p50/p99/max', 'STALENESS', 'LAST APPLIED'],
      l.enforcers.map((e) => [
        e.enforcerId,
        e.live ? 'yes' : 'no',
        // Whether its acknowledgements (its lag, the orders it is counted for) were verified against its own key.
        e.acksVerified === true ? 'verified' : e.acksVerified === false ? 'no' : '?',
        `${formatMs(e.silenceMs)} ago`,
        e.identities,
        e.applied,
        e.rejected,
        e.lag ? `${formatMs(e.lag.p50Ms)} / ${formatMs(e.lag.p99Ms)} / ${formatMs(e.lag.maxMs)}` : '-',
        e.stalenessMs === null ? '?' : e.stalenessMs === 0 ? 'up to date' : `${formatMs(e.stalenessMs)} behind (${e.pendingCommands ?? 0})`,
        e.lastApplied ? `${e.lastApplied.identityId} v${e.lastApplied.version} ${e.lastApplied.kind}` : '-',
      ]),
    ) + `${l.known} live enforcement point(s)\n`
  );
}

export function renderIdentities(p: S.IdentitiesPage, nowMs = Date.now()): string {
  const total = p.total === null ? '' : `${p.total} identit${p.total === 1 ? 'y' : 'ies'} match\n`;
  if (p.identities.length === 0) return `${total}no identity on this page\n`;
  return (
    total +
    formatTable(
      ['IDENTITY', 'KIND', 'NAMESPACE', 'OWNER', 'STATUS', 'VERSION', 'SCOPE', 'SESSIONS', 'RISK', 'UPDATED'],
      p.identities.map((i) => [i.identityId, i.kind, i.namespace, i.owner, i.status, `v${i.version}`, i.scopeSize, i.sessions, i.riskScore, formatInstant(i.updatedAt, nowMs)]),
    ) +
    (p.nextCursor ? `more: --cursor ${p.nextCursor}\n` : '')
  );
}

const countsLine = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

export function renderFleet(f: S.FleetSummary): string {
  const activity = f.activity.buckets.reduce((a, b) => ({ narrowing: a.narrowing + b.narrowing, widening: a.widening + b.widening, mixed: a.mixed + b.mixed, revocation: a.revocation + b.revocation }), { narrowing: 0, widening: 0, mixed: 0, revocation: 0 });
  return [
    `fleet at ${f.at}: ${f.identities} identit${f.identities === 1 ? 'y' : 'ies'}, ${f.permissionsInScope} permissions in scope, ${f.openSessions} open sessions`,
    `  by status:    ${countsLine(f.byStatus)}`,
    `  by kind:      ${countsLine(f.byKind)}`,
    `  by namespace: ${countsLine(f.byNamespace)}`,
    `  scope sizes:  ${f.scopeSizes.map((s) => `${s.label}: ${s.identities}`).join(', ') || 'none'}`,
    `  orders in force ${f.ordersInForce} · enforcement points ${f.enforcers.known}/${f.enforcers.total} · unacknowledged alerts (24 h) ${f.alerts.unacknowledged}`,
    `  last ${formatMs(f.activity.bucketMs * f.activity.buckets.length)}: ${activity.narrowing} narrowing, ${activity.widening} widening, ${activity.mixed} mixed changes, ${activity.revocation} revocations`,
  ].join('\n') + '\n';
}

export function renderChangeLine(c: S.ChangeItem): string {
  return `${c.at}  ${c.identityId}  ${c.kind}${c.version === null ? '' : ` v${c.version}`}${c.direction ? ` ${c.direction}` : ''}  ${c.summary}\n`;
}

export function renderChanges(l: S.ChangesList): string {
  if (l.items.length === 0) return `no scope change yet (follow on with: livescope changes --follow --since ${l.position})\n`;
  return formatTable(['AT', 'IDENTITY', 'VERSION', 'KIND', 'DIRECTION', 'ACTOR', 'SUMMARY'], l.items.map((c) => [c.at, c.identityId, c.version === null ? '' : `v${c.version}`, c.kind, c.direction, c.actor, c.summary]), 100);
}

export function renderWhoAmI(w: S.WhoAmI): string {
  const can = Object.entries(w.can).filter(([, v]) => v).map(([k]) => k);
  return `${w.sub}, roles ${w.roles.join(', ') || 'none'}\n  may: ${can.join(', ') || 'nothing'}\n`;
}
