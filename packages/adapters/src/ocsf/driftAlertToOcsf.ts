import type { DriftAlert, DriftAlertType, Severity } from '@livescope/contracts';
import { OCSF_SCHEMA_VERSION, type OcsfDetectionFinding } from './OcsfDetectionFinding.js';

const SEVERITY: Readonly<Record<Severity, { id: 2 | 3 | 4 | 5; name: 'Low' | 'Medium' | 'High' | 'Critical' }>> = {
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

export const DRIFT_ALERT_TITLES: Readonly<Record<DriftAlertType, string>> = {
  'out-of-scope-attempt': 'Out-of-scope access attempt by a non-human identity',
  'excess-privilege': 'Non-human identity holds permissions it does not use',
  'sudden-widening': 'Sudden widening of a non-human identity runtime scope',
  'human-use': 'A person used a non-human identity',
  'secret-access-without-session': 'Secret accessed outside any session',
  'token-replay': 'Replayed token of a non-human identity',
  'secret-leaked': 'Leaked secret: its leases were revoked',
  'stale-enforcer': 'Enforcement point stopped receiving scope updates',
  'rejected-command': 'Enforcement point rejected an unsigned, forged or rolled-back command',
  'partition-stuck': 'Scope pipeline partition stopped advancing: enforcement fails closed for its identities',
  'unauthorized-producer': 'Control event from a producer not allowed to send it was refused',
  'invalid-approval': 'Approval by a non-human, by the identity itself or without verified human evidence was refused',
};

export interface OcsfOptions {
  /** `metadata.product.vendor_name`. Default `livescope`. */
  readonly vendorName?: string;
  /** `metadata.product.version`, e.g. the deployed release. */
  readonly productVersion?: string;
}

/**
 * A livescope drift alert as an OCSF Detection Finding (class 2004, activity Create). Deterministic:
 * the finding's uid is the alert id, so a re-delivered alert is the same finding for the SIEM.
 */
export function driftAlertToOcsf(alert: DriftAlert, options: OcsfOptions = {}): OcsfDetectionFinding {
  const ms = Date.parse(alert.at);
  const severity = SEVERITY[alert.severity];
  const resources: OcsfDetectionFinding['resources'] = [];
  if (alert.identityId) resources.push({ uid: alert.identityId, name: alert.identityId, type: 'Non-Human Identity' });
  if (alert.enforcerId) resources.push({ uid: alert.enforcerId, name: alert.enforcerId, type: 'Enforcement Point' });
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: severity.id,
    severity: severity.name,
    time: ms,
    message: alert.summary,
    status_id: 1,
    status: 'New',
    is_alert: true,
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      uid: alert.alertId,
      ...(alert.cause.eventId ? { correlation_uid: alert.cause.eventId } : {}),
      original_time: alert.at,
      product: { name: 'livescope', vendor_name: options.vendorName ?? 'livescope', ...(options.productVersion ? { version: options.productVersion } : {}), feature: { name: 'scope-drift' } },
    },
    finding_info: {
      uid: alert.alertId,
      title: DRIFT_ALERT_TITLES[alert.type],
      desc: alert.summary,
      types: [alert.type],
      created_time: ms,
      analytic: { uid: `livescope:${alert.type}`, name: alert.type, type_id: 1, type: 'Rule' },
    },
    resources,
    ...(Object.keys(alert.details).length ? { evidences: [{ data: alert.details }] } : {}),
    unmapped: { livescope: { alertType: alert.type, severity: alert.severity, cause: alert.cause } },
  };
}
