import { describe, expect, it } from 'vitest';
import { LagWindow, lagStats } from './LagWindow.js';

describe('lag statistics', () => {
  it('nearest-rank p50, p99 and max', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(lagStats(samples)).toEqual({ p50Ms: 50, p99Ms: 99, maxMs: 100, samples: 100 });
    expect(lagStats([7])).toEqual({ p50Ms: 7, p99Ms: 7, maxMs: 7, samples: 1 });
    expect(lagStats([])).toBeUndefined();
  });

  it('a window keeps the last N samples; `with` leaves the original untouched (retried writes)', () => {
    const w = new LagWindow(3);
    for (const s of [100, 1, 2]) w.add(s);
    const next = w.with([3]);
    expect(w.stats()).toMatchObject({ maxMs: 100, samples: 3 });
    expect(next.stats()).toEqual({ p50Ms: 2, p99Ms: 3, maxMs: 3, samples: 3 });
    expect(next.with([4, 5]).stats()).toMatchObject({ p50Ms: 4, maxMs: 5 });
  });

  it('clamps negative lag (clock skew between hosts) to zero', () => {
    const w = new LagWindow();
    w.add(-5);
    expect(w.stats()?.maxMs).toBe(0);
  });
});
