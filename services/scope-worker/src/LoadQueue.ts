/**
 * Runs partition bulk loads a few at a time (they compete for one thread and the PostgreSQL pool:
 * six at once took longer for the last of them than six in a row). Urgent loads — a batch is
 * waiting for them — start before the queued background ones, in the order they came.
 */
export class LoadQueue {
  private running = 0;
  private readonly waiting: { readonly start: () => void; readonly urgent: boolean }[] = [];

  /** `concurrency`: loads run at once (default 1). */
  constructor(private readonly concurrency = 1) {}

  async run<T>(job: () => Promise<T>, urgent: boolean): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else {
      // The slot of a finished job is handed over directly (running stays the same).
      await new Promise<void>((start) => {
        const entry = { start, urgent };
        const firstBackground = urgent ? this.waiting.findIndex((w) => !w.urgent) : -1;
        if (firstBackground < 0) this.waiting.push(entry);
        else this.waiting.splice(firstBackground, 0, entry);
      });
    }
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }

  /** Loads waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }
}
