import { createParser, type EventSourceParser } from 'eventsource-parser';

/** One dispatched Server-Sent Event. */
export interface SseMessage {
  /** The event's type (`message` when the stream names none). */
  readonly event: string;
  readonly data: string;
  /** The last event id at dispatch: what a reconnecting client sends as Last-Event-ID. */
  readonly lastEventId: string;
}

/**
 * An incremental text/event-stream parser (eventsource-parser, which follows the WHATWG rules:
 * CRLF, LF or CR line ends split across chunks, multi-line data, ids without NUL, `retry`,
 * comments) that keeps the last event id across events that carry none, as a browser does.
 */
export class SseParser {
  private readonly parser: EventSourceParser;
  private out: SseMessage[] = [];
  /** Reconnection delay the server asked for, in ms. */
  retryMs: number | undefined;

  constructor(public lastEventId = '') {
    this.parser = createParser({
      onId: (id) => {
        this.lastEventId = id;
      },
      onEvent: (m) => this.out.push({ event: m.event ?? 'message', data: m.data, lastEventId: this.lastEventId }),
      onRetry: (ms) => {
        this.retryMs = ms;
      },
    });
  }

  /** Feeds a chunk of the stream; returns the events it completed. */
  push(chunk: string): SseMessage[] {
    this.parser.feed(chunk);
    const out = this.out;
    this.out = [];
    return out;
  }
}
