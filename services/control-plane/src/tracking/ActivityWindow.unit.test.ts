import { describe, expect, it } from 'vitest';
import { ActivityWindow } from './ActivityWindow.js';

describe('ActivityWindow', () => {
  it('counts commands per bucket and lists every bucket of the window, oldest first', () => {
    const w = new ActivityWindow(1000, 5);
    w.record(10_100, 'narrowing');
    w.record(10_900, 'narrowing');
    w.record(12_000, 'revocation', 3);
    w.record(13_500, 'widening');
    const s = w.series(14_200);
    expect(s.map((b) => b.atMs)).toEqual([10_000, 11_000, 12_000, 13_000, 14_000]);
    expect(s.map((b) => [b.narrowing, b.widening, b.revocation])).toEqual([
      [2, 0, 0],
      [0, 0, 0],
      [0, 0, 3],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });

  it('forgets buckets that left the window and ignores commands older than a reused slot', () => {
    const w = new ActivityWindow(1000, 3);
    w.record(1_000, 'mixed');
    w.record(4_000, 'refresh'); // reuses slot of 1 000
    w.record(1_500, 'mixed'); // older than the slot now holds
    const s = w.series(5_000);
    expect(s.map((b) => b.atMs)).toEqual([3_000, 4_000, 5_000]);
    expect(s.reduce((n, b) => n + b.mixed, 0)).toBe(0);
    expect(s[1]!.refresh).toBe(1);
  });

  it('refuses a non-positive size', () => {
    expect(() => new ActivityWindow(0, 1)).toThrow(RangeError);
  });
});
