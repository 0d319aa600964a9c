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

/**
 * Start-up against dependencies that may be restarting (broker, registry, PostgreSQL): retry the
 * whole step with backoff until `timeoutMs` has passed, logging each failure, then give up.
 */
export async function retryStartup<T>(what: string, step: () => Promise<T>, options: { timeoutMs: number; log: (msg: string, attempt: number, err: string) => void; shouldStop?: () => boolean }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      if (Date.now() >= deadline || options.shouldStop?.()) throw new Error(`${what}: gave up after ${attempt} attempts: ${err}`, { cause: e });
      options.log(`${what} failed; retrying`, attempt, err);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt - 1, 5))));
    }
  }
}
