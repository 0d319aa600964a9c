import { describe, expect, it } from 'vitest';
import { LoadQueue } from './LoadQueue.js';

/** A job that records when it starts and ends when `finish()` is called. */
function job(name: string, started: string[]): { run: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return {
    run: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('LoadQueue', () => {
  it('runs one load at a time; an urgent one goes before the queued background ones, after earlier urgent ones', async () => {
    const q = new LoadQueue(1);
    const started: string[] = [];
    const [a, b, c, u1, u2] = ['a', 'b', 'c', 'u1', 'u2'].map((n) => job(n, started));
    const results = [q.run(a!.run, false), q.run(b!.run, false), q.run(c!.run, false), q.run(u1!.run, true), q.run(u2!.run, true)];
    await turns();
    expect(started).toEqual(['a']);
    expect(q.queued).toBe(4);
    for (const j of [a, u1, u2, b, c]) {
      j!.finish();
      await turns();
    }
    expect(started).toEqual(['a', 'u1', 'u2', 'b', 'c']);
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'u1', 'u2']);
    expect(q.queued).toBe(0);
  });

  it('frees the slot when a load fails', async () => {
    const q = new LoadQueue(1);
    await expect(q.run(() => Promise.reject(new Error('pg down')), false)).rejects.toThrow('pg down');
    await expect(q.run(() => Promise.resolve(1), false)).resolves.toBe(1);
  });
});
