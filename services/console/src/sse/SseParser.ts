/** One dispatched Server-Sent Event. */
export interface SseMessage {
  /** The event's type (`message` when the stream names none). */
  readonly event: string;
  readonly data: string;
  /** The last event id at dispatch: what a reconnecting client sends as Last-Event-ID. */
  readonly lastEventId: string;
}

/**
 * An incremental text/event-stream parser following the WHATWG HTML rules: lines end with CRLF,
 * LF or CR (also split across chunks); `data` lines join with LF; an `id` (without NUL) sets the
 * last event id, which persists across events that carry none; `retry` sets the reconnection
 * delay; comments and unknown fields are ignored; an event without data is not dispatched.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private started = false;
  /** Reconnection delay the server asked for, in ms. */
  retryMs: number | undefined;

  constructor(public lastEventId = '') {}

  push(chunk: string): SseMessage[] {
    let text = this.buffer + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (c === '\r' && i === text.length - 1) break;
      this.line(text.slice(start, i), out);
      if (c === '\r' && text[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buffer = text.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
  }
}
