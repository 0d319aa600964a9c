import type { EnforcerAck } from '@livescope/contracts';

export type AckEntry = EnforcerAck['applied'][number];

/** Acknowledgements held while the broker is unreachable; the oldest are dropped beyond this. */
export const MAX_PENDING_ACKS = 100_000;

/**
 * Applied commands waiting to be acknowledged, bounded: beyond `capacity` the oldest entries are
 * dropped (and counted) — an acknowledgement only feeds the control plane's lag view, and an
 * enforcement point must not grow without bound while the broker is away. Also counts the commands
 * rejected since the last acknowledgement.
 */
export class AckBuffer {
  private entries: AckEntry[] = [];
  private head = 0;
  /** Commands rejected since the last acknowledgement was taken. */
  rejected = 0;
  /** Entries dropped for want of room, since the start. */
  dropped = 0;

  constructor(readonly capacity = MAX_PENDING_ACKS) {}

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Appends an entry; returns how many were dropped to make room (0 or 1). */
  push(entry: AckEntry): number {
    this.entries.push(entry);
    return this.trim();
  }

  /** Takes up to `max` of the oldest entries, and the rejected count (reset). */
  take(max: number): { applied: AckEntry[]; rejected: number } {
    const applied = this.entries.slice(this.head, this.head + max);
    this.head += applied.length;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    }
    const rejected = this.rejected;
    this.rejected = 0;
    return { applied, rejected };
  }

  /** Puts back what `take` returned (a send failed), in front; returns how many entries were dropped to stay bounded. */
  requeue(taken: { applied: readonly AckEntry[]; rejected: number }): number {
    this.entries = [...taken.applied, ...this.entries.slice(this.head)];
    this.head = 0;
    this.rejected += taken.rejected;
    return this.trim();
  }

  private trim(): number {
    const excess = this.size - this.capacity;
    if (excess <= 0) return 0;
    this.head += excess;
    this.dropped += excess;
    // Compact now and then so that the dropped prefix does not hold memory.
    if (this.head > this.capacity) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return excess;
  }
}
