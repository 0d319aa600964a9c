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
  /** Aborts when the client goes away or the stream reaches its deadline (maximum duration or token expiry). */
  readonly signal: AbortSignal;
  /** True until the client goes away or the stream's deadline (maximum duration or token expiry) is reached. */
  readonly open: boolean;
  /** Milliseconds left before the deadline (at least 1). */
  readonly remainingMs: number;
  /** Milliseconds since the last write. */
  readonly idleMs: number;
  /** Writes an event; `id` becomes the client's Last-Event-ID. Waits while the socket is congested; dropped past the deadline. */
  event(e: { readonly id?: string; readonly event: string; readonly data: unknown }): Promise<void>;
  /** Writes a comment line when nothing was written for `idleMs`, so proxies keep the connection. */
  keepAlive(idleMs: number): Promise<void>;
}

export interface EventStreamOptions {
  /** The stream is closed after this long; clients reconnect with Last-Event-ID. */
  readonly maxMs: number;
  /** The stream is closed at this instant (epoch ms) if sooner: the expiry of the caller's token. */
  readonly endsAtMs?: number | undefined;
  /** Reconnection delay suggested to clients (`retry:`), in ms. */
  readonly retryMs: number;
  /** First comment line, for people reading the stream with curl. */
  readonly intro: string;
  /** Route template, for the request counter (hijacked replies bypass the onResponse hook). */
  readonly route: string;
  /** Correlation id of the request, sent as `x-request-id` and logged. */
  readonly requestId?: string;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
}

/** Why a stream ended, as the last event (`stream.end`) and the `livescope_control_plane_sse_ended_total` label say. */
export type StreamEnd = 'client-gone' | 'token-expired' | 'max-duration' | 'error';

/** How long a stream whose loop does not return at its deadline is given before its socket is cut. */
const HARD_STOP_GRACE_MS = 2000;

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');

/**
 * Takes over a reply and runs `body` as a text/event-stream until it returns, the client leaves,
 * the maximum duration passes or the caller's token expires. At the deadline the writer's signal
 * aborts (waits wake up), writes are dropped, and the stream ends with a `stream.end` event saying
 * why (`token-expired`: reconnect with a new token; `max-duration`: reconnect with Last-Event-ID);
 * it carries no `id`, so Last-Event-ID stays the last real event. Writes honour back-pressure; an
 * error ends the stream (clients resume where they were).
 */
export async function serveEventStream(reply: FastifyReply, o: EventStreamOptions, body: (w: EventStreamWriter) => Promise<void>): Promise<StreamEnd> {
  reply.hijack();
  const raw = reply.raw;
  const gone = new AbortController();
  raw.once('close', () => gone.abort());
  const startedAt = Date.now();
  const maxDeadline = startedAt + o.maxMs;
  const deadline = o.endsAtMs !== undefined ? Math.min(maxDeadline, o.endsAtMs) : maxDeadline;
  const expired = new AbortController();
  const deadlineTimer = setTimeout(() => expired.abort(), Math.max(0, deadline - startedAt));
  // A loop stuck past its deadline (a dependency that does not answer) must not keep a stream whose token expired.
  const hardStop = setTimeout(() => raw.destroy(), Math.max(0, deadline - startedAt) + HARD_STOP_GRACE_MS);
  const signal = AbortSignal.any([gone.signal, expired.signal]);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...(o.requestId !== undefined ? { 'x-request-id': o.requestId } : {}),
  });
  let lastWrite = Date.now();
  const write = async (chunk: string): Promise<void> => {
    lastWrite = Date.now();
    if (!raw.write(chunk))
      await new Promise<void>((resolve) => {
        const done = (): void => {
          raw.off('drain', done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        raw.once('drain', done);
        signal.addEventListener('abort', done, { once: true });
      });
  };
  const open = (): boolean => !signal.aborted && Date.now() < deadline;
  const writer: EventStreamWriter = {
    signal,
    get open() {
      return open();
    },
    get remainingMs() {
      return Math.max(1, deadline - Date.now());
    },
    get idleMs() {
      return Date.now() - lastWrite;
    },
    // Nothing is written past the deadline, whatever the loop does.
    event: (e) => (open() ? write(`${e.id !== undefined ? `id: ${oneLine(e.id)}\n` : ''}event: ${oneLine(e.event)}\ndata: ${JSON.stringify(e.data)}\n\n`) : Promise.resolve()),
    keepAlive: async (idleMs) => {
      if (open() && Date.now() - lastWrite >= idleMs) await write(': keep-alive\n\n');
    },
  };
  o.metrics.sseClients.inc();
  let end: StreamEnd = 'client-gone';
  try {
    await write(`retry: ${o.retryMs}\n: ${oneLine(o.intro)}\n\n`);
    await body(writer);
    // The deadline timer may fire a millisecond before Date.now() reaches the deadline: either says it is reached.
    if (!gone.signal.aborted && (expired.signal.aborted || Date.now() >= deadline)) end = deadline < maxDeadline ? 'token-expired' : 'max-duration';
  } catch (e) {
    end = gone.signal.aborted ? 'client-gone' : 'error';
    o.logger.warn({ route: o.route, reqId: o.requestId, err: e }, 'event stream ended by an error');
  } finally {
    clearTimeout(deadlineTimer);
    o.metrics.sseClients.dec();
    o.metrics.sseEnded.inc({ reason: end });
    o.metrics.requests.inc({ route: o.route, method: 'GET', status: '200' });
    if (!gone.signal.aborted && (end === 'token-expired' || end === 'max-duration')) {
      const why = end === 'token-expired' ? `the token expired at ${new Date(o.endsAtMs ?? deadline).toISOString()}; reconnect with a new token` : `the stream reached its maximum duration of ${o.maxMs} ms; reconnect with Last-Event-ID`;
      raw.write(`: ${oneLine(why)}\nevent: stream.end\ndata: ${JSON.stringify({ reason: end, at: new Date().toISOString() })}\n\n`);
    }
    raw.end();
    // The socket is cut if the client does not take the end within the grace period.
    clearTimeout(hardStop);
    if (!raw.writableFinished) {
      const cut = setTimeout(() => raw.destroy(), HARD_STOP_GRACE_MS);
      cut.unref();
      raw.once('finish', () => clearTimeout(cut));
      raw.once('close', () => clearTimeout(cut));
    }
  }
  return end;
}
