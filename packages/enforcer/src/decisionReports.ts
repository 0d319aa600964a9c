import type { LivescopeEventInput } from '@livescope/contracts';
import type { DecisionCount } from './DecisionAggregator.js';

/** Decisions per report event (the contract's bound). */
const DECISIONS_PER_REPORT = 256;

/**
 * The `enforcement.decisions` events of one aggregation window, keyed by identity (their subject):
 * what an enforcement point writes to the reports topic, from which the scope worker relays them
 * into the events topic as observations. Event ids are deterministic per window and identity.
 */
export function decisionReports(enforcerId: string, window: { windowStart: number; windowEnd: number; byIdentity: ReadonlyMap<string, readonly DecisionCount[]> }): LivescopeEventInput[] {
  const events: LivescopeEventInput[] = [];
  for (const [identityId, counts] of window.byIdentity) {
    for (let i = 0; i < counts.length; i += DECISIONS_PER_REPORT) {
      events.push({
        specversion: '1.0',
        id: `${enforcerId}/${window.windowStart}/${identityId}/${i}`,
        type: 'enforcement.decisions',
        source: `enforcer/${enforcerId}`,
        time: new Date(window.windowEnd).toISOString(),
        subject: identityId,
        data: {
          enforcerId,
          windowStart: new Date(window.windowStart).toISOString(),
          windowEnd: new Date(window.windowEnd).toISOString(),
          decisions: counts.slice(i, i + DECISIONS_PER_REPORT).map((c) => ({ action: c.action, resource: c.resource, ...(c.sessionId ? { sessionId: c.sessionId } : {}), allowed: c.allowed, denied: c.denied, ...(c.reason ? { reason: c.reason.slice(0, 1000) } : {}) })),
        },
      });
    }
  }
  return events;
}
