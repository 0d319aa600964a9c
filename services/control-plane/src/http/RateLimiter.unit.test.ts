import { describe, expect, it } from 'vitest';
import { RateLimiter } from './RateLimiter.js';

describe('RateLimiter', () => {
  it('allows the budget at once, then refuses with the time until one request is earned back', () => {
    const l = new RateLimiter(60);
    const taken = Array.from({ length: 60 }, () => l.take('a', 0));
    expect(taken.every((t) => t.allowed)).toBe(true);
    expect(taken.at(-1)!.remaining).toBe(0);
    const refused = l.take('a', 0);
    expect(refused).toEqual({ allowed: false, limit: 60, remaining: 0, retryAfterMs: 1000 });
    expect(l.take('a', 400).retryAfterMs).toBe(600);
    expect(l.take('a', 1000).allowed).toBe(true);
    expect(l.take('a', 1000).allowed).toBe(false);
  });

  it('earns the budget back over a minute, never more than the budget', () => {
    const l = new RateLimiter(6);
    for (let i = 0; i < 6; i++) l.take('a', 0);
    expect(l.take('a', 30_000)).toMatchObject({ allowed: true, remaining: 2 });
    expect(l.take('a', 10 * 60_000)).toMatchObject({ allowed: true, remaining: 5 });
  });

  it('keeps keys apart', () => {
    const l = new RateLimiter(1);
    expect(l.take('a', 0).allowed).toBe(true);
    expect(l.take('a', 0).allowed).toBe(false);
    expect(l.take('b', 0).allowed).toBe(true);
  });

  it('gives back a refunded request, up to the budget', () => {
    const l = new RateLimiter(2);
    l.take('a', 0);
    l.take('a', 0);
    l.refund('a', 0);
    expect(l.take('a', 0).allowed).toBe(true);
    expect(l.take('a', 0).allowed).toBe(false);
    l.refund('b', 0);
    expect(l.take('b', 0).remaining).toBe(1);
  });

  it('never takes tokens away when the clock steps back', () => {
    const l = new RateLimiter(60);
    for (let i = 0; i < 60; i++) l.take('a', 10_000);
    expect(l.take('a', 5_000).allowed).toBe(false);
    expect(l.take('a', 11_000).allowed).toBe(true);
  });

  it('holds at most maxKeys keys, forgetting the least recently used', () => {
    const l = new RateLimiter(1, 3);
    for (const k of ['a', 'b', 'c']) l.take(k, 0);
    l.take('a', 0);
    l.take('d', 0);
    expect(l.size).toBe(3);
    // b was the least recently used: forgotten, it starts full again; a is still spent.
    expect(l.take('b', 0).allowed).toBe(true);
    expect(l.take('a', 0).allowed).toBe(false);
  });
});
