import { describe, expect, it } from 'vitest';
import { ControlPlaneMetrics } from './ControlPlaneMetrics.js';

describe('control-plane metric names (Prometheus conventions)', () => {
  it('one prefix, livescope_control_plane_, and the Node.js default metrics unprefixed (regression: three prefixes, prefixed defaults broke the standard dashboards)', async () => {
    const metrics = await new ControlPlaneMetrics().registry.getMetricsAsJSON();
    const names = metrics.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'livescope_control_plane_http_requests_total', 'livescope_control_plane_http_request_duration_seconds']));
    const own = names.filter((n) => !/^(process|nodejs)_/.test(n));
    expect(own.filter((n) => !n.startsWith('livescope_control_plane_'))).toEqual([]);
    // Counters say _total; durations name their unit.
    expect(metrics.filter((m) => String(m.type) === 'counter' && !m.name.endsWith('_total')).map((m) => m.name)).toEqual([]);
    expect(own.filter((n) => /lag|duration|silence|unacknowledged/.test(n) && !n.endsWith('_seconds'))).toEqual([]);
  });
});
