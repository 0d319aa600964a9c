import { SseParser, type SseMessage } from './SseParser';

export type StreamStatus = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

export interface EventStreamOptions {
  /** Same-origin path with query, e.g. `/v1/alerts/stream?severity=high`. */
  readonly path: string;
  readonly token: string;
  /** Resume after this event id on the first connection. */
  readonly lastEventId?: string | undefined;
  readonly onEvent: (m: SseMessage) => void;
  readonly onStatus?: (s: StreamStatus, detail?: string) => void;
  /** Called on every (re)connection once the server answered: re-synchronise what the stream cannot replay. */
  readonly onOpen?: (reconnect: boolean) => void;
  /** Delay before reconnecting after a clean end, unless the server's `retry:` says otherwise. Default 1000 ms. */
  readonly retryMs?: number;
  /** Longest delay between reconnection attempts after errors. Default 30 000 ms. */
  readonly maxRetryMs?: number;
}

/**
 * Server-Sent Events over fetch, because EventSource cannot send the bearer token. Reconnects with
 * capped exponential backoff (and jitter) after errors, after the server's `retry` delay when the
 * server ends the stream, and always with Last-Event-ID so nothing is missed. A 401 or 403 stops it.
 */
export class EventStreamClient {
  lastEventId: string | undefined;
  private readonly ctl = new AbortController();
  private status: StreamStatus = 'connecting';
  /** Connections made, for tests and the status line. */
  connections = 0;

  constructor(private readonly o: EventStreamOptions) {
    this.lastEventId = o.lastEventId;
  }

  start(): this {
    void this.run();
    return this;
  }

  close(): void {
    this.ctl.abort();
    this.setStatus('closed');
  }

  private setStatus(s: StreamStatus, detail?: string): void {
    if (this.status === 'closed') return;
    this.status = s;
    this.o.onStatus?.(s, detail);
  }

  private async run(): Promise<void> {
    const signal = this.ctl.signal;
    let failures = 0;
    let retryMs = this.o.retryMs ?? 1000;
    const maxRetryMs = this.o.maxRetryMs ?? 30_000;
    while (!signal.aborted) {
      this.setStatus(this.connections === 0 ? 'connecting' : 'reconnecting');
      let clean = false;
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${this.o.token}`, accept: 'text/event-stream' };
        if (this.lastEventId !== undefined && this.lastEventId !== '') headers['last-event-id'] = this.lastEventId;
        const res = await fetch(this.o.path, { headers, cache: 'no-store', signal });
        if (res.status === 401 || res.status === 403) {
          this.setStatus('unauthorized', `HTTP ${res.status}`);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.connections++;
        failures = 0;
        this.setStatus('open');
        this.o.onOpen?.(this.connections > 1);
        const parser = new SseParser(this.lastEventId ?? '');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const m of parser.push(value)) {
            this.lastEventId = m.lastEventId;
            this.o.onEvent(m);
          }
          if (parser.retryMs !== undefined) retryMs = parser.retryMs;
        }
        clean = true;
      } catch (e) {
        if (signal.aborted) return;
        failures++;
        this.setStatus('reconnecting', (e as Error).message);
      }
      const base = clean ? retryMs : Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 10));
      await sleep(base + Math.random() * Math.min(1000, base / 2), signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
