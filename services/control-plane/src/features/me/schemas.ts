import { z } from 'zod';
import { component } from '../../http/schemas.js';

/** The answer of GET /v1/me: the verified caller and what its roles allow. */
export const WhoAmI = component(
  'WhoAmI',
  z.object({
    sub: z.string(),
    roles: z.array(z.string()),
    can: z
      .object({
        read: z.boolean(),
        readAlerts: z.boolean(),
        acknowledgeAlerts: z.boolean(),
        issueOrders: z.boolean(),
        liftOwnOrders: z.boolean(),
        liftAnyOrder: z.boolean(),
        grantApprovals: z.boolean(),
      })
      .describe('What the roles allow, as the API enforces it (user interfaces hide what is false).'),
  }),
);
