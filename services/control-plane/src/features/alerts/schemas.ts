import { Cause, DriftAlertType, IdentityId, Instant, Severity } from '@livescope/contracts';
import { z } from 'zod';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component } from '../../http/schemas.js';

/** Requests and answers of the alerts API: drift alerts, their stream and their acknowledgement. */
const csvOf = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .max(1000)
    .transform((s, ctx) => {
      const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
      const out: z.infer<T>[] = [];
      for (const p of parts) {
        const r = item.safeParse(p);
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `unknown value ${p}` });
          return z.NEVER;
        }
        out.push(r.data);
      }
      return out;
    });

export const AlertFilterQuery = z.object({
  type: csvOf(DriftAlertType).optional().describe('Comma-separated alert types.'),
  severity: Severity.optional().describe('Minimum severity.'),
  identity: IdentityId.optional(),
  enforcer: z.string().min(1).max(256).optional(),
  since: Instant.optional().describe('Only alerts at or after this instant.'),
  acknowledged: z.enum(['true', 'false']).optional().describe('Only acknowledged (`true`) or unacknowledged (`false`) alerts.'),
});
export const AlertsQuery = AlertFilterQuery.extend(pageQuery(100, 500).shape);
export const AlertStreamQuery = AlertFilterQuery.extend({
  lastEventId: z.string().regex(/^\d{1,19}$/).optional().describe('Resume after this alert id (the Last-Event-ID header takes precedence).'),
});

export const AlertView = component(
  'Alert',
  z.object({
    id: z.string().describe('Monotonic id: the SSE event id (Last-Event-ID).'),
    alertId: z.string(),
    type: DriftAlertType,
    severity: Severity,
    identityId: z.string().nullable(),
    enforcerId: z.string().nullable(),
    at: Instant,
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    cause: Cause,
    receivedAt: Instant,
    acknowledgement: z
      .object({ by: z.string(), at: Instant, note: z.string().nullable() })
      .nullable()
      .describe('Who acknowledged the alert, when, with what note; null while unacknowledged.'),
  }),
);
export type AlertView = z.infer<typeof AlertView>;

export const AlertsList = component(
  'AlertsList',
  z.object({ alerts: z.array(AlertView).describe('Newest first.'), nextCursor: NextCursor }),
);

export const AlertParams = z.object({ id: z.string().regex(/^\d{1,19}$/).describe('Alert id (`id` of the Alert, not `alertId`).') });
export const AckRequest = component(
  'AlertAckRequest',
  z.strictObject({ note: z.string().min(1).max(1024).optional().describe('Why, or what was done: shown beside the acknowledgement.') }),
);
export const AlertAck = component(
  'AlertAck',
  z.object({ id: z.string(), alertId: z.string(), by: z.string().describe('The token subject.'), at: Instant, note: z.string().nullable() }),
);
