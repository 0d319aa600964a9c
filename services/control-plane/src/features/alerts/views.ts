import type { AlertRow } from './AlertsRepository.js';
import type { AlertView } from './schemas.js';

export function alertView(r: AlertRow): AlertView {
  const a = r.alert;
  return { id: r.seq, alertId: a.alertId, type: a.type, severity: a.severity, identityId: a.identityId ?? null, enforcerId: a.enforcerId ?? null, at: a.at, summary: a.summary, details: a.details, cause: a.cause, receivedAt: r.receivedAt, acknowledgement: r.ack };
}

const severityOrder = ['low', 'medium', 'high', 'critical'] as const;
/** Severities at or above `min`. */
export function severitiesFrom(min: (typeof severityOrder)[number]): string[] {
  return severityOrder.slice(severityOrder.indexOf(min));
}
