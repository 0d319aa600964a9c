import type { AuditRecord } from '@livescope/store';
import { historyItem } from '../../audit/auditItem.js';
import type { ChangeItem } from './schemas.js';

/** A scope change or revocation of the fleet-wide change feed. */
export function changeItem(r: AuditRecord): ChangeItem {
  return { ...historyItem(r), identityId: r.identityId ?? '' };
}
