import { DriftAlert } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { driftAlertToOcsf } from '../src/ocsf/driftAlertToOcsf.js';
import { OcsfDetectionFinding } from '../src/ocsf/OcsfDetectionFinding.js';

const alert = DriftAlert.parse({
  kind: 'drift.alert',
  alertId: 'k8s:default/app-sa/k8s:x1/denied/out-of-scope-attempt',
  type: 'out-of-scope-attempt',
  severity: 'medium',
  identityId: 'k8s:default/app-sa',
  at: '2026-01-01T00:00:00.000Z',
  summary: 'k8s:default/app-sa attempted 1 out-of-scope action at kube-apiserver',
  details: { enforcerId: 'kube-apiserver', attempts: [{ action: 'k8s:get', resource: 'namespaces/production/secrets/admin-token', count: 1 }] },
  cause: { eventId: 'k8s:x1/denied', eventType: 'enforcement.decisions' },
});

describe('drift alert → OCSF Detection Finding (class 2004)', () => {
  it('maps every field, deterministically, and satisfies the schema of what we emit', () => {
    const finding = driftAlertToOcsf(alert, { productVersion: '0.1.0' });
    expect(finding).toEqual({
      activity_id: 1,
      activity_name: 'Create',
      category_uid: 2,
      category_name: 'Findings',
      class_uid: 2004,
      class_name: 'Detection Finding',
      type_uid: 200401,
      type_name: 'Detection Finding: Create',
      severity_id: 3,
      severity: 'Medium',
      time: 1767225600000,
      message: 'k8s:default/app-sa attempted 1 out-of-scope action at kube-apiserver',
      status_id: 1,
      status: 'New',
      is_alert: true,
      metadata: {
        version: '1.3.0',
        uid: 'k8s:default/app-sa/k8s:x1/denied/out-of-scope-attempt',
        correlation_uid: 'k8s:x1/denied',
        original_time: '2026-01-01T00:00:00.000Z',
        product: { name: 'livescope', vendor_name: 'livescope', version: '0.1.0', feature: { name: 'scope-drift' } },
      },
      finding_info: {
        uid: 'k8s:default/app-sa/k8s:x1/denied/out-of-scope-attempt',
        title: 'Out-of-scope access attempt by a non-human identity',
        desc: 'k8s:default/app-sa attempted 1 out-of-scope action at kube-apiserver',
        types: ['out-of-scope-attempt'],
        created_time: 1767225600000,
        analytic: { uid: 'livescope:out-of-scope-attempt', name: 'out-of-scope-attempt', type_id: 1, type: 'Rule' },
      },
      resources: [{ uid: 'k8s:default/app-sa', name: 'k8s:default/app-sa', type: 'Non-Human Identity' }],
      evidences: [{ data: { enforcerId: 'kube-apiserver', attempts: [{ action: 'k8s:get', resource: 'namespaces/production/secrets/admin-token', count: 1 }] } }],
      unmapped: { livescope: { alertType: 'out-of-scope-attempt', severity: 'medium', cause: { eventId: 'k8s:x1/denied', eventType: 'enforcement.decisions' } } },
    });
    expect(OcsfDetectionFinding.safeParse(finding).success).toBe(true);
    expect(driftAlertToOcsf(alert, { productVersion: '0.1.0' })).toEqual(finding);
  });

  it('maps every severity and alert type', () => {
    for (const [severity, id] of [['low', 2], ['medium', 3], ['high', 4], ['critical', 5]] as const) {
      for (const type of DriftAlert.shape.type.options) {
        const f = driftAlertToOcsf({ ...alert, severity, type, identityId: undefined, enforcerId: 'edge-1' as never, details: {} });
        expect(f.severity_id).toBe(id);
        expect(f.finding_info.title.length).toBeGreaterThan(10);
        expect(f.resources).toEqual([{ uid: 'edge-1', name: 'edge-1', type: 'Enforcement Point' }]);
        expect(OcsfDetectionFinding.safeParse(f).success).toBe(true);
      }
    }
  });
});
