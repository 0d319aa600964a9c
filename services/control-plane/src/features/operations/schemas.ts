import { z } from 'zod';
import { component } from '../../http/schemas.js';

/** Answers of the operational probes. */
export const Health = component(
  'Health',
  z.object({ status: z.literal('ok') }),
);
const Check = z.enum(['ok', 'unavailable']).describe('`unavailable`: the component did not answer; the error is in the server log, never in the answer.');
export const Readiness = component(
  'Readiness',
  z.object({
    ready: z.boolean(),
    checks: z.object({ kafka: Check, registry: Check, postgres: Check, consumers: Check }),
    correlationId: z.string().optional().describe('When not ready: the id under which the server logged the failing checks (also the `x-request-id` header).'),
  }),
);
