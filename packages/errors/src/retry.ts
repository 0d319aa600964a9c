import { classify } from './classify.js';
import { LivescopeError, type ErrorClass } from './LivescopeError.js';
import { markErrorClass } from './markErrorClass.js';

export interface RetryOptions {
  /** Whether to retry after this error. Default: `classify(e) === 'transient'`. */
  readonly isRetriable?: (e: unknown) => boolean;
  /** Called before each wait, with the attempt that failed (1-based) and the delay chosen. */
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
  /** Checked after each failure: true gives up at once (the partition or the process is going away). */
  readonly shouldStop?: () => boolean;
  /** First delay in ms. Default 100. */
  readonly baseMs?: number;
  /** Largest delay in ms. Default 5000. */
  readonly maxMs?: number;
  /** Give up (rethrow the last error) once this many ms have passed since the first attempt. Default: never. */
  readonly timeoutMs?: number;
  /** Most attempts in all. Default: unbounded (bounded by `timeoutMs` or `shouldStop`). */
  readonly maxAttempts?: number;
  /** Source of randomness for the jitter (tests). Default Math.random. */
  readonly random?: () => number;
  /** How to wait (tests). Default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Waits `ms`, or less when `signal` aborts (it never rejects): the pause between attempts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const defaultSleep = (ms: number): Promise<void> => sleep(ms);

/**
 * The delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so that many clients that failed together do not
 * come back together, yet no delay is shorter than half the nominal one.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/**
 * The one retry helper: runs `step` until it succeeds, retrying errors `isRetriable` accepts (by
 * default the transient ones) with jittered exponential backoff. The caller is blocked meanwhile,
 * which is what keeps order when a partition waits for its broker or database.
 */
export async function retry<T>(step: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const isRetriable = options.isRetriable ?? ((e: unknown) => classify(e) === 'transient');
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await step(attempt);
    } catch (e) {
      if (!isRetriable(e) || options.shouldStop?.() === true) throw e;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw e;
      const delay = backoffDelay(attempt, baseMs, maxMs, options.random);
      if (options.timeoutMs !== undefined && Date.now() - started + delay > options.timeoutMs) throw e;
      options.onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}

/** A step that did not finish in its time; `code` is always `DEADLINE_EXCEEDED`. */
export class DeadlineError extends LivescopeError<'DEADLINE_EXCEEDED'> {}
markErrorClass(DeadlineError, 'DeadlineError');

/**
 * Settles like `work`, or rejects with a DeadlineError after `ms` (classified `classification`,
 * default fatal) naming `what()` — evaluated at expiry, so it can say which step was in progress.
 * The work itself is not cancelled: the caller stops what it opened (closing a client ends its
 * pending requests). The timer does not keep the process alive.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: () => string, classification: ErrorClass = 'fatal'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError('DEADLINE_EXCEEDED', classification, `${what()} did not finish within ${ms} ms`, { context: { ms } })), ms);
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
