import { describe, expect, it } from 'vitest';
import { InteropMetrics } from '../src/InteropMetrics.js';

describe('livescope-interop metric names', () => {
  it('share one prefix, livescope_interop_ (regression: livescope_ssf_, livescope_caep_, livescope_ocsf_ and livescope_interop_ in one service), beside the unprefixed Node.js defaults', async () => {
    const names = (await new InteropMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('livescope_interop_ssf_received_sets_total');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    expect(names.filter((n) => !/^(livescope_interop_|process_|nodejs_)/.test(n))).toEqual([]);
  });
});
