/** p50 / p99 / max of a window of samples, in milliseconds. */
export interface LagStats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samples: number;
}

/**
 * The last `capacity` lag samples of one enforcement point (time from a command's production to
 * its application), kept in a ring. Percentiles are nearest-rank over the window, so they describe
 * recent behaviour rather than all history.
 */
export class LagWindow {
  private readonly ring: number[] = [];
  private next = 0;

  constructor(readonly capacity = 1024) {}

  get size(): number {
    return this.ring.length;
  }

  add(ms: number): void {
    const v = Math.max(0, ms);
    if (this.ring.length < this.capacity) this.ring.push(v);
    else this.ring[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
  }

  /** A copy with more samples, leaving this window untouched (for writes that may be retried). */
  with(samples: readonly number[]): LagWindow {
    const w = new LagWindow(this.capacity);
    // Replay in insertion order so the copy evicts exactly what this window would.
    const ordered = this.ring.length < this.capacity ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    for (const s of ordered) w.add(s);
    for (const s of samples) w.add(s);
    return w;
  }

  stats(): LagStats | undefined {
    return lagStats(this.ring);
  }
}

/** Nearest-rank percentiles of `samples`; undefined when empty. */
export function lagStats(samples: readonly number[]): LagStats | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return { p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: sorted[sorted.length - 1]!, samples: sorted.length };
}
