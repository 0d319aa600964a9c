import { Instant } from '@livescope/contracts';
import { z } from 'zod';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component } from '../../http/schemas.js';

export const EnforcersQuery = pageQuery(200, 1000);

/** The answer of GET /v1/enforcers: enforcement points, what they applied, how far behind they are. */
export const EnforcerView = component(
  'Enforcer',
  z.object({
    enforcerId: z.string(),
    live: z.boolean().describe('Heard from within the liveness window.'),
    firstSeen: Instant.nullable(),
    lastSeen: Instant,
    silenceMs: z.number().int().describe('Milliseconds since its last acknowledgement.'),
    identities: z.number().int().describe('Identities it holds, as it last reported.'),
    applied: z.number().int().describe('Commands it acknowledged.'),
    rejected: z.number().int().describe('Commands it rejected (unsigned, forged, replayed).'),
    lastApplied: z.object({ identityId: z.string(), version: z.number().int(), kind: z.string(), appliedAt: Instant, producedAt: Instant.nullable() }).nullable(),
    lag: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() }).nullable().describe('Production → application of recent scope changes and revocations.'),
    acksVerified: z
      .boolean()
      .nullable()
      .describe('Whether its latest acknowledgements — and so its lag and the orders it is counted as having applied — were signed by one of its own keys (`LIVESCOPE_API_ENFORCER_KEYS`); false: self-declared; null: recorded before acknowledgements were verified.'),
    stalenessMs: z.number().int().nullable().describe('Age of the oldest recent command it has not acknowledged (0: up to date; null: unknown to this instance).'),
    pendingCommands: z.number().int().nullable(),
  }),
);
export type EnforcerView = z.infer<typeof EnforcerView>;

export const EnforcersList = component(
  'EnforcersList',
  z.object({ enforcers: z.array(EnforcerView).describe('In enforcerId order.'), known: z.number().int(), nextCursor: NextCursor }),
);
