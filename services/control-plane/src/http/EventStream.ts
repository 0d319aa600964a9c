import type { Logger } from '@livescope/transport';
import type { FastifyReply } from 'fastify';
import type { ControlPlaneMetrics } from '../ControlPlaneMetrics.js';

/** Rows a stream reads per wake-up before writing them out. */
export const STREAM_BATCH = 200;
/** A comment line after this much silence keeps proxies from closing the connection. */
export const KEEP_ALIVE_MS = 15_000;
/** Reconnection delay suggested to clients (`retry:`). */
export const RETRY_MS = 2000;

/**
 * What a feature streams, free of HTTP types: the first comment line and the loop that writes the
 * events. Route handlers return it in an `EventStreamBody`; the app serves it with `serveEventStream`.
 */
export interface EventStreamSource {
  /** First comment line, for people reading the stream with curl. */
  readonly intro: string;
  /** Writes events until `w.open` turns false or it returns. */
  readonly run: (w: EventStreamWriter) => Promise<void>;
}

/** Writes one Server-Sent Events response; see `serveEventStream`. */
export interface EventStreamWriter {
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** True until the client goes away or the stream's maximum duration is reached. */
  readonly open: boolean;
  /** Milliseconds left before the maximum duration (at least 1). */
  readonly remainingMs: number;
  /** Milliseconds since the last write. */
  readonly idleMs: number;
  /** Writes an event; `id` becomes the client's Last-Event-ID. Waits while the socket is congested. */
  event(e: { readonly id?: string; readonly event: string; readonly data: unknown }): Promise<void>;
  /** Writes a comment line when nothing was written for `idleMs`, so proxies keep the connection. */
  keepAlive(idleMs: number): Promise<void>;
}

export interface EventStreamOptions {
  /** The stream is closed after this long; clients reconnect with Last-Event-ID. */
  readonly maxMs: number;
  /** Reconnection delay suggested to clients (`retry:`), in ms. */
  readonly retryMs: number;
  /** First comment line, for people reading the stream with curl. */
  readonly intro: string;
  /** Route template, for the request counter (hijacked replies bypass the onResponse hook). */
  readonly route: string;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');

/**
 * Takes over a reply and runs `body` as a text/event-stream until it returns, the client leaves
 * or the maximum duration passes. Writes honour back-pressure; an error ends the stream (clients
 * resume where they were).
 */
export async function serveEventStream(reply: FastifyReply, o: EventStreamOptions, body: (w: EventStreamWriter) => Promise<void>): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  const ctl = new AbortController();
  raw.once('close', () => ctl.abort());
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const deadline = Date.now() + o.maxMs;
  let lastWrite = Date.now();
  const write = async (chunk: string): Promise<void> => {
    lastWrite = Date.now();
    if (!raw.write(chunk))
      await new Promise<void>((resolve) => {
        const done = (): void => {
          raw.off('drain', done);
          ctl.signal.removeEventListener('abort', done);
          resolve();
        };
        raw.once('drain', done);
        ctl.signal.addEventListener('abort', done, { once: true });
      });
  };
  const writer: EventStreamWriter = {
    signal: ctl.signal,
    get open() {
      return !ctl.signal.aborted && Date.now() < deadline;
    },
    get remainingMs() {
      return Math.max(1, deadline - Date.now());
    },
    get idleMs() {
      return Date.now() - lastWrite;
    },
    event: (e) => write(`${e.id !== undefined ? `id: ${oneLine(e.id)}\n` : ''}event: ${oneLine(e.event)}\ndata: ${JSON.stringify(e.data)}\n\n`),
    keepAlive: async (idleMs) => {
      if (Date.now() - lastWrite >= idleMs) await write(': keep-alive\n\n');
    },
  };
  o.metrics.sseClients.inc();
  try {
    await write(`retry: ${o.retryMs}\n: ${oneLine(o.intro)}\n\n`);
    await body(writer);
  } catch (e) {
    o.logger.warn({ route: o.route, err: (e as Error).message }, 'event stream ended by an error');
  } finally {
    o.metrics.sseClients.dec();
    o.metrics.requests.inc({ route: o.route, method: 'GET', status: '200' });
    raw.end();
  }
}
