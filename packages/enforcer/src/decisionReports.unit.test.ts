import { DecisionsReported, parseWith } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { DecisionAggregator } from './DecisionAggregator.js';
import { decisionReports } from './decisionReports.js';
import { T0 } from './testing/builders.js';

describe('decision reports', () => {
  it('are valid enforcement.decisions events, subject = identity, at most 256 decisions each', () => {
    const agg = new DecisionAggregator(10_000, T0);
    for (let i = 0; i < 300; i++) agg.record('sa-1', 's1', 'db:read', `db/${i}`, i % 2 === 0, { reason: 'not in scope' });
    agg.record('sa-2', undefined, 'db:read', 'db/a', true, 'x');
    const events = decisionReports('gw-1', agg.drain(T0 + 1000));
    expect(events.map((e) => [(e as { subject: string }).subject, (e.data as { decisions: unknown[] }).decisions.length])).toEqual([['sa-1', 256], ['sa-1', 44], ['sa-2', 1]]);
    for (const e of events) expect(parseWith(DecisionsReported, e, 'report')).toMatchObject({ type: 'enforcement.decisions', source: 'enforcer/gw-1' });
    expect(events[0]!.id).toBe(`gw-1/${T0}/sa-1/0`);
  });
});
