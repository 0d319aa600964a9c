import { LivescopeEvent } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { fleetMembers, provisioningEvents } from './fleet.js';
import { scenario, scenarioNames } from './scenarios.js';
import { traffic } from './traffic.js';

describe('simulator', () => {
  it('generates the same fleet and traffic from the same seed, and valid events', () => {
    const a = fleetMembers(7, 50);
    expect(fleetMembers(7, 50)).toEqual(a);
    expect(fleetMembers(8, 50)).not.toEqual(a);
    const events = a.flatMap((m) => provisioningEvents(m, 0));
    for (const e of events) expect(LivescopeEvent.safeParse(e).success).toBe(true);
    const gen = traffic(7, a, 0);
    const first = Array.from({ length: 2000 }, () => gen.next().value);
    const again = traffic(7, a, 0);
    expect(Array.from({ length: 2000 }, () => again.next().value)).toEqual(first);
    for (const e of first) expect(LivescopeEvent.safeParse(e).success).toBe(true);
    const noop = first.filter((e) => e.type === 'telemetry.activity' || (e.type === 'telemetry.risk-scored' && e.data.score === 10)).length;
    expect(noop / first.length).toBeGreaterThan(0.75);
  });

  it.each(scenarioNames)('scenario %s produces valid events', (name) => {
    const s = scenario(name, { startMs: 0, minuteMs: 1000, runId: 'r1', signReleaseWindow: () => 'x'.repeat(86), releaseSigner: 'rm' });
    for (const step of s.steps) for (const e of step.events) expect(LivescopeEvent.safeParse(e).error?.message).toBeUndefined();
  });
});
