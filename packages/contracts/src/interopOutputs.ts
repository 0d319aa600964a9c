import { z } from 'zod';

// Outputs of the interop service (services/interop): CAEP security event tokens and OCSF findings.
/**
 * A record of the `livescope.caep.events.v1` topic: a signed SET and what it is about, keyed by the
 * livescope identity (co-partitioned with the other identity topics). Consumers that speak SSF use
 * `set` as is; others read `payload` (the SET's claims, verified by the transmitter when it signed them).
 */
export const CaepTopicRecord = z.strictObject({
  kind: z.literal('caep.set'),
  jti: z.string().min(1),
  iss: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  identityId: z.string().min(1),
  eventType: z.string().min(1),
  txn: z.string().optional(),
  /** The SET as a compact JWS (`typ: secevent+jwt`). */
  set: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
});
export type CaepTopicRecord = z.infer<typeof CaepTopicRecord>;

/**
 * The subset of the OCSF Detection Finding class (class_uid 2004, category Findings) livescope emits,
 * as a schema: the base-event required attributes (activity, category, class, type, severity, time,
 * metadata) plus the finding's required `finding_info` and the recommended resources and evidences.
 */
export const OCSF_SCHEMA_VERSION = '1.3.0';

export const OcsfDetectionFinding = z.strictObject({
  activity_id: z.literal(1),
  activity_name: z.literal('Create'),
  category_uid: z.literal(2),
  category_name: z.literal('Findings'),
  class_uid: z.literal(2004),
  class_name: z.literal('Detection Finding'),
  type_uid: z.literal(200401),
  type_name: z.literal('Detection Finding: Create'),
  severity_id: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
  severity: z.enum(['Low', 'Medium', 'High', 'Critical']),
  /** Epoch milliseconds (OCSF timestamp_t). */
  time: z.number().int(),
  message: z.string(),
  status_id: z.literal(1),
  status: z.literal('New'),
  is_alert: z.literal(true),
  metadata: z.strictObject({
    version: z.literal(OCSF_SCHEMA_VERSION),
    uid: z.string(),
    correlation_uid: z.string().optional(),
    original_time: z.string(),
    product: z.strictObject({ name: z.literal('livescope'), vendor_name: z.string(), version: z.string().optional(), feature: z.strictObject({ name: z.string() }) }),
  }),
  finding_info: z.strictObject({
    uid: z.string(),
    title: z.string(),
    desc: z.string(),
    types: z.array(z.string()).min(1),
    created_time: z.number().int(),
    analytic: z.strictObject({ uid: z.string(), name: z.string(), type_id: z.literal(1), type: z.literal('Rule') }),
  }),
  resources: z.array(z.strictObject({ uid: z.string(), name: z.string(), type: z.string(), labels: z.array(z.string()).optional() })),
  evidences: z.array(z.strictObject({ data: z.record(z.string(), z.unknown()) })).optional(),
  unmapped: z.record(z.string(), z.unknown()),
});
export type OcsfDetectionFinding = z.infer<typeof OcsfDetectionFinding>;
