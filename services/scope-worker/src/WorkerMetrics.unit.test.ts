import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from './WorkerMetrics.js';

describe('worker metric names', () => {
  it('livescope_ for its own, unprefixed Node.js defaults (regression: livescope_worker_process_* broke the standard dashboards), _total on counters', async () => {
    const all = await new WorkerMetrics().registry.getMetricsAsJSON();
    const byName = new Map(all.map((m) => [m.name, m.type]));
    for (const n of ['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'livescope_events_consumed_total', 'livescope_consumer_lag_messages']) expect(byName.has(n), n).toBe(true);
    const strays = [...byName.keys()].filter((n) => !n.startsWith('livescope_') && !n.startsWith('process_') && !n.startsWith('nodejs_'));
    expect(strays).toEqual([]);
    expect([...byName].filter(([n, t]) => String(t) === 'counter' && !n.endsWith('_total'))).toEqual([]);
    expect([...byName.keys()].some((n) => n.startsWith('livescope_worker_process') || n.startsWith('livescope_worker_nodejs'))).toBe(false);
  });
});
