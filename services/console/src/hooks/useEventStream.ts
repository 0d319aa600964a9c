import { useEffect, useRef, useState } from 'react';
import { useSession } from '../api/session';
import { EventStreamClient, type StreamStatus } from '../sse/EventStreamClient';
import type { SseMessage } from '../sse/SseParser';

export interface StreamState {
  readonly status: StreamStatus;
  readonly detail: string | undefined;
  /** Connections made so far (more than one: it reconnected and resumed). */
  readonly connections: number;
}

/**
 * Follows a Server-Sent Events stream of the API while the component is mounted. `path` null (or
 * `lastEventId` null: not known yet) waits; a new path restarts the stream. Handlers may change
 * on every render without reconnecting.
 */
export function useEventStream(path: string | null, handlers: { onEvent: (m: SseMessage) => void; onOpen?: (reconnect: boolean) => void }, lastEventId?: string | null): StreamState {
  const { token } = useSession();
  const ref = useRef(handlers);
  ref.current = handlers;
  const [state, setState] = useState<StreamState>({ status: 'connecting', detail: undefined, connections: 0 });
  const ready = path !== null && lastEventId !== null;
  useEffect(() => {
    if (!ready) return undefined;
    const client = new EventStreamClient({
      path,
      token,
      lastEventId: lastEventId ?? undefined,
      onEvent: (m) => ref.current.onEvent(m),
      onOpen: (reconnect) => ref.current.onOpen?.(reconnect),
      onStatus: (status, detail) => setState({ status, detail, connections: client.connections }),
    });
    client.start();
    return () => client.close();
    // lastEventId is where to start: later values (it moves with every event) must not restart the stream.
  }, [path, token, ready]);
  return state;
}
