import type { AuditRecord } from '@livescope/store';

/** An `audit_log` row as node-postgres returns it. */
export interface AuditSqlRow {
  partition: number;
  seq: string;
  at: Date;
  kind: string;
  identity_id: string | null;
  version: string | null;
  actor: string | null;
  event_id: string | null;
  payload: string;
}

export const auditRecord = (r: AuditSqlRow): AuditRecord => ({ partition: r.partition, seq: Number(r.seq), at: r.at.toISOString(), kind: r.kind, identityId: r.identity_id, version: r.version === null ? null : Number(r.version), actor: r.actor, eventId: r.event_id, payload: r.payload });
