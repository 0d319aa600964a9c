import { LRUCache } from 'lru-cache';

/**
 * A map with a fixed capacity that forgets its least recently written entry first (reads do not
 * refresh an entry), on lru-cache. Used for the reducers' memory (pending requests, tokens seen at
 * login, RBAC roles), so that no input stream, however long or hostile, grows it without bound.
 */
export class BoundedMap<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly cache: LRUCache<K, V>;
  /** What the last `set` evicted (lru-cache tells through `dispose`). */
  private evicted: [K, V][] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    // Bounded by a count through maxSize, not max: with max, lru-cache allocates all the slots up front.
    this.cache = new LRUCache<K, V>({
      maxSize: capacity,
      sizeCalculation: () => 1,
      dispose: (value, key, reason) => {
        if (reason === 'evict') this.evicted.push([key, value]);
      },
    });
  }

  get size(): number {
    return this.cache.size;
  }

  get(key: K): V | undefined {
    return this.cache.peek(key);
  }

  has(key: K): boolean {
    return this.cache.has(key);
  }

  /** Sets the value (as the most recent entry) and returns the entries evicted to stay within capacity. */
  set(key: K, value: V): [K, V][] {
    this.cache.set(key, value);
    const evicted = this.evicted;
    this.evicted = [];
    return evicted;
  }

  delete(key: K): V | undefined {
    const v = this.cache.peek(key);
    this.cache.delete(key);
    return v;
  }

  /** The least recently written entry. */
  oldest(): [K, V] | undefined {
    const first = this.cache.rentries().next();
    return first.done ? undefined : (first.value as [K, V]);
  }

  /** Oldest first. */
  entries(): [K, V][] {
    return [...this.cache.rentries()] as [K, V][];
  }

  clear(): void {
    this.cache.clear();
  }
}
