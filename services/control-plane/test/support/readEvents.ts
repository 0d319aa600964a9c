import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One Server-Sent Event; `id` is the last event id at dispatch (it persists across events that carry none). */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/**
 * The events of a text/event-stream body (eventsource-parser), until it ends or `signal` aborts: a
 * test client of the server's streams (the server's tests do not depend on the CLI).
 */
export async function* readEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<SseEvent> {
  const last: { id?: string } = {};
  // Aborting the pipes cancels the body and errors the events: the loop ends at once, even between events.
  const events = body.pipeThrough(new TextDecoderStream(), { signal }).pipeThrough(new EventSourceParserStream({ onId: (id) => void (last.id = id) }), { signal });
  try {
    for await (const m of events) yield { id: last.id, event: m.event ?? 'message', data: m.data };
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}
