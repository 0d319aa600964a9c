import { IdentityId } from '@livescope/contracts';
import { z } from 'zod';
import { HistoryItem } from '../../audit/auditItem.js';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component } from '../../http/schemas.js';

/** Requests and answers of the change feed: the newest scope changes and revocations fleet-wide, and their stream. */
const CHANGE_KINDS = /^(scope\.change|revocation)(,(scope\.change|revocation))*$/;
export const ChangeItem = component(
  'ChangeItem',
  HistoryItem.extend({ identityId: z.string() }),
);
export type ChangeItem = z.infer<typeof ChangeItem>;
export const ChangesQuery = pageQuery(50, 500).extend({
  kinds: z.string().regex(CHANGE_KINDS).optional().describe('Comma-separated subset of scope.change, revocation (default: both).'),
});
export const ChangesList = component(
  'ChangesList',
  z.object({
    items: z.array(ChangeItem).describe('Newest first.'),
    position: z.string().describe('Position of the first page in the audit log: pass it as Last-Event-ID to /v1/changes/stream to follow on without a gap.'),
    nextCursor: NextCursor,
  }),
);
export const ChangeStreamQuery = z.object({
  identity: IdentityId.optional().describe('Only this identity.'),
  kinds: z.string().regex(CHANGE_KINDS).optional(),
  lastEventId: z.string().regex(/^\d{1,6}:\d{1,19}(,\d{1,6}:\d{1,19}){0,4095}$/).optional().describe('Resume after this position (the Last-Event-ID header takes precedence).'),
});
