import type { IdentityEvent } from '@livescope/contracts';

/**
 * Every identity whose state applying `event` reads: its subject and, for an approval, the
 * identities the approval names (an approval given by a non-human identity the partition tracks is
 * refused, see `isKnownIdentity` in evolveIdentity). A worker that loads a partition's identities
 * on demand loads these before it applies the event, so the result is the same as with the whole
 * partition in memory. Any new read of another identity's state in `evolveIdentity` or in
 * `ScopeEngine.handleIdentityEvent` must be listed here.
 */
export function identitiesRead(event: IdentityEvent): string[] {
  if (event.type === 'session.approval-granted') {
    const d = event.data;
    return d.approver === undefined ? [event.subject, d.approvedBy] : [event.subject, d.approvedBy, d.approver.subject];
  }
  return [event.subject];
}
