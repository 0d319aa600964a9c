/** What a command did, as counted on the fleet page: a scope change by direction, or a revocation. */
export type ActivityKind = 'narrowing' | 'widening' | 'mixed' | 'refresh' | 'revocation';

export interface ActivityCounts {
  narrowing: number;
  widening: number;
  mixed: number;
  refresh: number;
  revocation: number;
}

export interface ActivityBucketView extends ActivityCounts {
  /** Start of the bucket, epoch ms. */
  readonly atMs: number;
}

const empty = (): ActivityCounts => ({ narrowing: 0, widening: 0, mixed: 0, refresh: 0, revocation: 0 });

/**
 * Counts of scope changes and revocations per fixed time bucket over a sliding window, by the
 * command's Kafka timestamp. Pure and bounded: `buckets` slots in a ring; a command older than the
 * window is ignored. The control plane feeds it from the command topics it follows (re-read from
 * the tracking window on start), so the series survives a restart.
 */
export class ActivityWindow {
  private readonly slots: (ActivityBucketView | undefined)[];

  constructor(
    /** Bucket width in ms. Default 60 000 (one minute). */
    readonly bucketMs = 60_000,
    /** Buckets kept. Default 60 (an hour of one-minute buckets). */
    readonly buckets = 60,
  ) {
    if (!Number.isInteger(bucketMs) || bucketMs <= 0 || !Number.isInteger(buckets) || buckets <= 0) throw new RangeError('bucketMs and buckets must be positive integers');
    this.slots = new Array<ActivityBucketView | undefined>(buckets).fill(undefined);
  }

  record(atMs: number, kind: ActivityKind, count = 1): void {
    const start = Math.floor(atMs / this.bucketMs) * this.bucketMs;
    const i = Math.floor(start / this.bucketMs) % this.buckets;
    let slot = this.slots[i];
    if (slot === undefined || slot.atMs < start) {
      slot = { atMs: start, ...empty() };
      this.slots[i] = slot;
    } else if (slot.atMs > start) {
      return; // older than the window the ring holds
    }
    (slot as ActivityCounts)[kind] += count;
  }

  /** The last `buckets` buckets up to the one holding `nowMs`, oldest first; empty buckets included. */
  series(nowMs: number): ActivityBucketView[] {
    const last = Math.floor(nowMs / this.bucketMs) * this.bucketMs;
    const out: ActivityBucketView[] = [];
    for (let k = this.buckets - 1; k >= 0; k--) {
      const atMs = last - k * this.bucketMs;
      const slot = this.slots[Math.floor(atMs / this.bucketMs) % this.buckets];
      out.push(slot !== undefined && slot.atMs === atMs ? { ...slot } : { atMs, ...empty() });
    }
    return out;
  }
}
