import type { Staleness } from '../../tracking/CommandTracker.js';
import type { EnforcerRow } from './EnforcersRepository.js';
import type { EnforcerView } from './schemas.js';

/** An enforcement point as the API shows it: what it reported, whether it is live, how far behind it is. */
export function enforcerView(row: EnforcerRow, staleness: Staleness | undefined, nowMs: number, livenessMs: number): EnforcerView {
  const silenceMs = Math.max(0, nowMs - Date.parse(row.lastSeen));
  return {
    enforcerId: row.enforcerId,
    live: silenceMs <= livenessMs,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    silenceMs,
    identities: row.identities,
    applied: row.applied,
    rejected: row.rejected,
    lastApplied: row.lastApplied,
    lag: row.lag,
    acksVerified: row.acksVerified,
    stalenessMs: staleness ? staleness.behindMs : null,
    pendingCommands: staleness ? staleness.pendingCommands : null,
  };
}
