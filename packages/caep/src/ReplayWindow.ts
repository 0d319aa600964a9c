/**
 * Memory of received `jti`s per issuer over a time window (the receiver's `maxAgeSec`). A SET is
 * rejected by its `iat` once older than the window, so ids received earlier than the window can be
 * forgotten: an id forgotten that way can only come back in a SET already too old to accept.
 * Bounded: when full, the oldest ids go first, and `horizonSec` (the oldest `iat` the receiver may still
 * accept without losing replay protection) moves up to the receive time of the last id forgotten.
 */
export class ReplayWindow {
  /** key → receive time (s); insertion order is receive order. */
  private readonly seen = new Map<string, number>();
  private evictedUpTo = Number.NEGATIVE_INFINITY;

  constructor(
    readonly windowSec: number,
    readonly capacity: number,
  ) {}

  /** Records the id; false when it was already seen (a replay). */
  remember(iss: string, jti: string, nowSec: number): boolean {
    this.forget(nowSec);
    const key = `${iss}\n${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, nowSec);
    while (this.seen.size > this.capacity) {
      const [oldest, at] = this.seen.entries().next().value as [string, number];
      this.seen.delete(oldest);
      this.evictedUpTo = Math.max(this.evictedUpTo, at);
    }
    return true;
  }

  /** The oldest `iat` still covered by this memory. */
  horizonSec(nowSec: number): number {
    return Math.max(nowSec - this.windowSec, this.evictedUpTo);
  }

  get size(): number {
    return this.seen.size;
  }

  private forget(nowSec: number): void {
    for (const [key, at] of this.seen) {
      if (at >= nowSec - this.windowSec) break;
      this.seen.delete(key);
    }
  }
}
