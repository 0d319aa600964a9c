/**
 * Wakes Server-Sent Events streams when something they follow happened in this instance (alerts
 * stored, scope changes read). Streams also poll, so what another instance did reaches them
 * within the poll interval.
 */
export class AlertBus {
  private waiters = new Set<(notified: boolean) => void>();

  notify(): void {
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w(true);
  }

  /** Resolves on the next notification (true), after `timeoutMs` or when `signal` aborts (false). */
  wait(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (notified: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(done);
        resolve(notified);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(done);
    });
  }
}
