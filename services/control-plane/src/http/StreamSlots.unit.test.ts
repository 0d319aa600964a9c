import { describe, expect, it } from 'vitest';
import { StreamSlots } from './StreamSlots.js';

describe('StreamSlots', () => {
  it('gives each subject at most its slots, and a released slot once', () => {
    const s = new StreamSlots(2);
    const a1 = s.acquire('a')!;
    const a2 = s.acquire('a')!;
    expect(s.acquire('a')).toBeUndefined();
    expect(s.acquire('b')).toBeDefined();
    a1();
    a1();
    expect(s.held('a')).toBe(1);
    expect(s.acquire('a')).toBeDefined();
    expect(s.acquire('a')).toBeUndefined();
    a2();
    expect(s.held('a')).toBe(1);
  });
});
