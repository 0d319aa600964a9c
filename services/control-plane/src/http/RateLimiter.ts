/** What taking one request from a budget gave. */
export interface RateTake {
  readonly allowed: boolean;
  /** The budget: requests per minute. */
  readonly limit: number;
  /** Whole requests left right now. */
  readonly remaining: number;
  /** When refused: milliseconds until one request is available again (0 when allowed). */
  readonly retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets per key (a client address, a token subject): each key may spend `perMinute`
 * requests at once and earns them back at `perMinute` per minute, so over any minute it gets at
 * most twice its budget and over time its budget. Pure: the caller passes the clock. Memory is
 * bounded to `maxKeys` keys, least recently used evicted first (an evicted key starts full again,
 * which is what a key unseen for a minute would have anyway).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly maxKeys = 100_000,
  ) {
    if (!(perMinute >= 1)) throw new RangeError('perMinute must be at least 1');
    if (!(maxKeys >= 1)) throw new RangeError('maxKeys must be at least 1');
    this.perMs = perMinute / 60_000;
  }

  /** Keys held (for tests and the bound). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one request from `key`'s budget, or says how long until there is one. */
  take(key: string, nowMs: number): RateTake {
    const b = this.current(key, nowMs);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, limit: this.perMinute, remaining: Math.floor(b.tokens), retryAfterMs: 0 };
    }
    return { allowed: false, limit: this.perMinute, remaining: 0, retryAfterMs: Math.max(1, Math.ceil((1 - b.tokens) / this.perMs)) };
  }

  /** Gives back a request taken by `take` (it turned out not to count against this budget). */
  refund(key: string, nowMs: number): void {
    const b = this.current(key, nowMs);
    b.tokens = Math.min(this.perMinute, b.tokens + 1);
  }

  /** The key's bucket refilled up to `nowMs`, made the most recently used. */
  private current(key: string, nowMs: number): Bucket {
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      // A clock stepping back never takes tokens away.
      b.tokens = Math.min(this.perMinute, b.tokens + Math.max(0, nowMs - b.atMs) * this.perMs);
      b.atMs = Math.max(b.atMs, nowMs);
    } else {
      b = { tokens: this.perMinute, atMs: nowMs };
    }
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return b;
  }
}
