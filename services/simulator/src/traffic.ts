import type { LivescopeEventInput } from '@livescope/contracts';
import type { FleetMember } from './fleet.js';
import { Random } from './random.js';
import { SIMULATED_APPROVER } from './scenarios.js';

/**
 * A realistic input mix for load and demos: mostly routine telemetry that changes nothing (repeat
 * risk scores, activity on permissions already recorded), some session and secret traffic, and
 * few policy-relevant changes. Deterministic from the seed.
 */
export interface TrafficMix {
  /** Telemetry that changes nothing. Default 0.85. */
  readonly noop: number;
  /** Session start / end pairs and secret accesses. Default 0.12. */
  readonly sessions: number;
  /** Risk changes, anomalies, approvals: policy inputs. Default 0.03. */
  readonly policyRelevant: number;
}

export const defaultMix: TrafficMix = { noop: 0.85, sessions: 0.12, policyRelevant: 0.03 };

export function* traffic(seed: number, fleet: readonly FleetMember[], startMs: number, mix: TrafficMix = defaultMix, source = 'simulator'): Generator<LivescopeEventInput, never> {
  const rnd = new Random(seed ^ 0x5bd1e995);
  const open = new Map<string, string>();
  for (let i = 0; ; i++) {
    const m = fleet[rnd.int(fleet.length)]!;
    const time = new Date(startMs + i).toISOString();
    const id = `${seed}/${i}`;
    const r = rnd.next();
    if (r < mix.noop) {
      yield rnd.chance(0.5)
        ? { specversion: '1.0', id, type: 'telemetry.risk-scored', source, time, subject: m.id, data: { score: 10, model: 'baseline' } }
        : { specversion: '1.0', id, type: 'telemetry.activity', source, time, subject: m.id, data: { action: m.roles[0]!.permissions[0]!.action, resource: m.roles[0]!.permissions[0]!.resource, count: 1 + rnd.int(5) } };
    } else if (r < mix.noop + mix.sessions) {
      const sid = open.get(m.id);
      if (sid) {
        open.delete(m.id);
        yield { specversion: '1.0', id, type: 'session.ended', source, time, subject: m.id, data: { sessionId: sid } };
      } else {
        const s = `${m.id}/s${i}`;
        open.set(m.id, s);
        yield { specversion: '1.0', id, type: 'session.started', source, time, subject: m.id, data: { sessionId: s, task: 'routine', mfa: rnd.chance(0.5), system: 'idp' } };
      }
    } else {
      const k = rnd.int(3);
      if (k === 0) yield { specversion: '1.0', id, type: 'telemetry.risk-scored', source, time, subject: m.id, data: { score: rnd.int(100) } };
      else if (k === 1) yield { specversion: '1.0', id, type: 'telemetry.anomaly-detected', source, time, subject: m.id, data: { anomalyId: `an-${i}`, kind: rnd.pick(['geo', 'volume', 'time-of-day']), severity: 'medium', expiresAt: new Date(startMs + i + 600_000).toISOString() } };
      else yield { specversion: '1.0', id, type: 'session.approval-granted', source, time, subject: m.id, data: { approvalId: `ap-${i}`, escalation: 'secret-retrieval', approvedBy: 'oncall', approver: SIMULATED_APPROVER, expiresAt: new Date(startMs + i + 900_000).toISOString() } };
    }
  }
}
