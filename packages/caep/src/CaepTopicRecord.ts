import { z } from 'zod';

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
