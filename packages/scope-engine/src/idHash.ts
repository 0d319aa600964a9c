/**
 * A 53-bit hash of an identifier (cyrb53; exact as a JavaScript number), for the bounded rings of
 * recent event ids and tombstones each identity keeps. They are only ever asked "was this id seen
 * among the last 16?", and a number costs 8 bytes where an id string costs 40–100: at a million
 * identities the rings were most of the state in memory. A false "seen" needs a collision with one
 * of 16 entries: about 16 / 2^53 ≈ 2e-15 per event.
 */
export function idHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** `list` with `item` appended, keeping the last `max` entries; exact-size (no spare capacity retained). */
export function ring<T>(list: readonly T[], item: T, max: number): T[] {
  return (list.length >= max ? list.slice(list.length - max + 1) : list).concat([item]);
}
