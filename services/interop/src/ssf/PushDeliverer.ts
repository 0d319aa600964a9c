import type { Logger } from '@livescope/transport';
import type { InteropMetrics } from '../InteropMetrics.js';
import { backoffDelay } from '@livescope/errors';
import type { OutboxEntry, SsfStore } from './SsfStore.js';

export interface PushDelivererOptions {
  readonly store: SsfStore;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
  /** Per-request timeout (ms). */
  readonly timeoutMs: number;
  /** Attempts before a SET is marked failed. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Pause between delivery rounds when nothing was due (ms). */
  readonly intervalMs: number;
  /** SETs claimed per round. Default 50. */
  readonly batch?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** Receiver answers that will not change on retry (RFC 8935 §2.3: 400 with an error code). */
const PERMANENT = new Set([400, 404, 405, 410, 413, 415]);

/**
 * RFC 8935 push delivery: POSTs each queued SET (`application/secevent+jwt`) to its stream's
 * endpoint with the stream's Authorization header. 202 (or any 2xx) removes it from the outbox; a
 * permanent rejection marks it failed with the receiver's error; anything else (timeouts, 5xx, 429,
 * 401/403 while a token is rotated) is retried with exponential backoff up to `maxAttempts`.
 */
export class PushDeliverer {
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly o: PushDelivererOptions) {
    this.fetchImpl = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((n) => this.schedule(n > 0 ? 0 : this.o.intervalMs))
        .catch((e: unknown) => {
          this.o.logger.error({ err: e }, 'push delivery round failed; retrying');
          this.schedule(this.o.intervalMs * 4);
        });
    }, ms);
  }

  /** One round: claims due SETs and delivers them (streams in parallel, each stream's SETs in order). */
  async runOnce(): Promise<number> {
    const claimed = await this.o.store.claimPush(this.now(), this.o.batch ?? 50, this.o.timeoutMs * 2 + 1000);
    const byStream = new Map<string, OutboxEntry[]>();
    for (const e of claimed) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    await Promise.all(
      [...byStream.values()].map(async (entries) => {
        for (const e of entries) await this.deliver(e);
      }),
    );
    return claimed.length;
  }

  private async deliver(e: OutboxEntry): Promise<void> {
    const stream = await this.o.store.getStream(e.streamId);
    if (!stream || stream.delivery.method !== 'urn:ietf:rfc:8935') return;
    const attempt = e.attempts + 1;
    let outcome: { ok: true } | { ok: false; permanent: boolean; error: string };
    try {
      const res = await this.fetchImpl(stream.delivery.endpoint_url, {
        method: 'POST',
        headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(stream.delivery.authorization_header ? { authorization: stream.delivery.authorization_header } : {}) },
        body: e.set,
        signal: AbortSignal.timeout(this.o.timeoutMs),
        redirect: 'error',
      });
      if (res.ok) outcome = { ok: true };
      else {
        const text = (await res.text().catch(() => '')).slice(0, 512);
        outcome = { ok: false, permanent: PERMANENT.has(res.status), error: `HTTP ${res.status} ${text}`.trim() };
      }
    } catch (err) {
      outcome = { ok: false, permanent: false, error: (err as Error).message };
    }
    const log = this.o.logger.child({ streamId: e.streamId, jti: e.jti, attempt });
    if (outcome.ok) {
      await this.o.store.delivered(e.streamId, e.jti);
      this.o.metrics.pushDeliveries.inc({ outcome: 'delivered' });
      log.debug('SET delivered');
    } else if (outcome.permanent || attempt >= this.o.maxAttempts) {
      await this.o.store.failed(e.streamId, e.jti, this.now(), outcome.error);
      this.o.metrics.pushDeliveries.inc({ outcome: 'failed' });
      log.warn({ error: outcome.error }, outcome.permanent ? 'receiver rejected the SET; not retried' : 'SET delivery failed after the last attempt');
    } else {
      const delay = backoffDelay(attempt, this.o.retryBaseMs, this.o.retryMaxMs);
      await this.o.store.retryLater(e.streamId, e.jti, attempt, this.now() + delay, outcome.error);
      this.o.metrics.pushDeliveries.inc({ outcome: 'retry' });
      log.info({ error: outcome.error, retryInMs: delay }, 'SET delivery failed; will retry');
    }
  }
}
