/**
 * Retries a step on transient errors with capped exponential backoff, preserving order (the caller
 * is blocked meanwhile). Gives up only when `shouldStop()` says the partition or process is going
 * away, or on a non-transient error.
 */
export async function retryTransient<T>(
  step: () => Promise<T>,
  options: { isTransient: (e: unknown) => boolean; onRetry: (e: unknown, attempt: number, delayMs: number) => void; shouldStop: () => boolean; baseMs?: number; maxMs?: number },
): Promise<T> {
  const base = options.baseMs ?? 100;
  const max = options.maxMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      if (!options.isTransient(e) || options.shouldStop()) throw e;
      const delay = Math.min(max, base * 2 ** Math.min(attempt - 1, 10));
      options.onRetry(e, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
