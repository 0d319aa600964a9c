import { randomBytes, randomUUID } from 'node:crypto';

/** Order ids are short enough to type in a terminal: `o-` and 12 base64url characters (72 random bits). */
export const newOrderId = (): string => `o-${randomBytes(9).toString('base64url')}`;
export const newApprovalId = (): string => `ap-${randomBytes(9).toString('base64url')}`;
/** Ids of the events the control plane publishes (duplicates are ignored by the workers). */
export const newEventId = (): string => `cp-${randomUUID()}`;
