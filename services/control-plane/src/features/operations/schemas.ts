import { z } from 'zod';
import { component } from '../../http/schemas.js';

/** Answers of the operational probes. */
export const Health = component(
  'Health',
  z.object({ status: z.literal('ok') }),
);
export const Readiness = component(
  'Readiness',
  z.object({ ready: z.boolean(), checks: z.object({ kafka: z.string(), registry: z.string(), postgres: z.string(), consumers: z.string() }) }),
);
