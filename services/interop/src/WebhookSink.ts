import type { Logger } from '@livescope/transport';
import { backoffDelay, sleep } from '@livescope/errors';

export interface WebhookSinkOptions {
  readonly url: string;
  /** `Authorization` header value (e.g. `Splunk <token>`, `Bearer <token>`). Never logged. */
  readonly authorization?: string;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * POSTs JSON documents to a SIEM webhook (HTTP Event Collector, Logstash http input, …) with
 * retries: 2xx is delivered; 429, 5xx and network errors are retried with exponential backoff up to
 * `maxAttempts`; other 4xx are not retried. Returns what happened so the caller can count it.
 */
export class WebhookSink {
  private readonly fetchImpl: typeof fetch;
  private readonly pause: (ms: number) => Promise<void>;

  constructor(private readonly o: WebhookSinkOptions) {
    this.fetchImpl = o.fetch ?? fetch;
    this.pause = o.sleep ?? ((ms) => sleep(ms));
  }

  async deliver(body: unknown, between?: () => Promise<void>): Promise<{ outcome: 'delivered' | 'rejected' | 'gave-up'; attempts: number; error?: string }> {
    let error = '';
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt++) {
      try {
        const res = await this.fetchImpl(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.o.authorization ? { authorization: this.o.authorization } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs),
          redirect: 'error',
        });
        if (res.ok) return { outcome: 'delivered', attempts: attempt };
        error = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status !== 408 && res.status < 500) return { outcome: 'rejected', attempts: attempt, error };
      } catch (e) {
        error = (e as Error).message;
      }
      if (attempt < this.o.maxAttempts) {
        const delay = backoffDelay(attempt, this.o.retryBaseMs ?? 500, this.o.retryMaxMs ?? 30_000);
        this.o.logger.info({ attempt, error, retryInMs: delay }, 'webhook delivery failed; will retry');
        await between?.();
        await this.pause(delay);
      }
    }
    return { outcome: 'gave-up', attempts: this.o.maxAttempts, error };
  }
}
