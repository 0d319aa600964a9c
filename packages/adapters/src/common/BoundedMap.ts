/**
 * A map with a fixed capacity that forgets its least recently written entry first. Used for the
 * reducers' memory (pending requests, tokens seen at login, RBAC roles), so that no input stream,
 * however long or hostile, grows it without bound.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Sets the value (as the most recent entry) and returns the entries evicted to stay within capacity. */
  set(key: K, value: V): [K, V][] {
    this.map.delete(key);
    this.map.set(key, value);
    const evicted: [K, V][] = [];
    while (this.map.size > this.capacity) {
      const oldest = this.map.entries().next().value as [K, V];
      this.map.delete(oldest[0]);
      evicted.push(oldest);
    }
    return evicted;
  }

  delete(key: K): V | undefined {
    const v = this.map.get(key);
    this.map.delete(key);
    return v;
  }

  /** The least recently written entry. */
  oldest(): [K, V] | undefined {
    return this.map.entries().next().value;
  }

  /** Oldest first. */
  entries(): [K, V][] {
    return [...this.map.entries()];
  }

  clear(): void {
    this.map.clear();
  }
}
