import { describe, expect, it } from 'vitest';
import { ago, countdown, duration } from './format';

describe('format', () => {
  it('writes durations at the right unit', () => {
    expect(duration(340)).toBe('340 ms');
    expect(duration(12_400)).toBe('12 s');
    expect(duration(252_000)).toBe('4 m 12 s');
    expect(duration(3_720_000)).toBe('1 h 02 m');
    expect(duration(3 * 86_400_000 + 3_600_000)).toBe('3 d 1 h');
  });

  it('counts down to an instant and says when it passed', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(countdown('2026-01-01T00:04:12Z', now)).toBe('in 4 m 12 s');
    expect(countdown('2025-12-31T23:59:59Z', now)).toBe('expired');
    expect(ago('2025-12-31T23:59:30Z', now)).toBe('30 s ago');
    expect(ago('2026-01-01T00:00:00Z', now)).toBe('just now');
  });
});
