import type { z } from 'zod';
import { access, hasAnyRole, Role, type Principal } from '../../auth/roles.js';
import type { MeApi } from './routes.js';
import type * as S from './schemas.js';

/** The caller: its token subject, its roles, and what they allow as the routes enforce it. */
export class MeService implements MeApi {
  whoami(p: Principal): z.input<typeof S.WhoAmI> {
    return {
      sub: p.sub,
      roles: [...p.roles].sort(),
      can: {
        read: hasAnyRole(p, access.read),
        readAlerts: hasAnyRole(p, access.alerts),
        acknowledgeAlerts: hasAnyRole(p, access.alerts),
        issueOrders: hasAnyRole(p, access.narrow),
        liftOwnOrders: hasAnyRole(p, access.lift),
        liftAnyOrder: hasAnyRole(p, [Role.approver]),
        grantApprovals: hasAnyRole(p, access.widen),
      },
    };
  }
}
