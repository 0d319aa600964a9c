import { Instant } from '@livescope/contracts';
import { z } from 'zod';
import { component } from '../../http/schemas.js';

/** The answer of GET /v1/fleet: the fleet at a glance. */
const counts = z.record(z.string(), z.number().int());
export const ActivityBucket = z.object({
  at: Instant.describe('Start of the bucket.'),
  narrowing: z.number().int(),
  widening: z.number().int(),
  mixed: z.number().int(),
  refresh: z.number().int(),
  revocation: z.number().int(),
});
export const FleetSummary = component(
  'FleetSummary',
  z.object({
    at: Instant,
    identities: z.number().int(),
    byStatus: counts,
    byKind: counts,
    byNamespace: counts,
    permissionsInScope: z.number().int(),
    openSessions: z.number().int(),
    scopeSizes: z.array(z.object({ label: z.string(), min: z.number().int(), max: z.number().int().nullable(), identities: z.number().int() })).describe('Histogram of scope sizes.'),
    ordersInForce: z.number().int(),
    enforcers: z.object({ known: z.number().int(), total: z.number().int() }),
    alerts: z.object({ unacknowledged: z.number().int().describe('Unacknowledged alerts of the last 24 hours.') }),
    activity: z
      .object({ bucketMs: z.number().int(), buckets: z.array(ActivityBucket) })
      .describe('Scope changes (by direction) and revocations per bucket, oldest first, as this control plane read them from the command topics.'),
  }),
);
export type FleetSummary = z.infer<typeof FleetSummary>;
