import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One Server-Sent Event. */
export interface SseEvent {
  /** The last event id at dispatch (it persists across events that carry none, as in a browser). */
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * Parses a text/event-stream body into events (eventsource-parser, WHATWG rules). Ends with the
 * stream or when `signal` aborts.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<SseEvent> {
  let id: string | undefined;
  const reader = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(
      new EventSourceParserStream({
        onId: (i) => {
          id = i;
        },
      }),
    )
    .getReader();
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { id, event: value.event ?? 'message', data: value.data };
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}
