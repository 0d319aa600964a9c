import { ApiError, type ApiClient } from './ApiClient.js';
import { backoffDelay, sleep } from '@livescope/errors';
import { readEvents, type SseEvent } from './sse.js';

/** Reconnections in a row without an event before `follow` gives up. */
const MAX_RECONNECTS = 10;

export interface FollowOptions {
  readonly api: ApiClient;
  /** The Server-Sent Events endpoint, e.g. `/v1/alerts/stream`. */
  readonly path: string;
  readonly query: Record<string, string | undefined>;
  /** Resume after this event id (`Last-Event-ID`); undefined: from now. */
  readonly lastEventId: string | undefined;
  /** Stop after this many events that `onEvent` counted. */
  readonly max: number;
  readonly signal: AbortSignal;
  readonly stderr: (text: string) => void;
  /** Told every event; returns whether it counts towards `max` (position markers do not). */
  readonly onEvent: (event: SseEvent) => boolean;
}

/**
 * Follows a Server-Sent Events stream of the API until `signal` aborts or `max` events came,
 * reconnecting after an interruption with the last event id seen, so nothing is skipped or repeated.
 * An authentication, authorization or request error ends it at once.
 */
export async function follow(o: FollowOptions): Promise<void> {
  let last = o.lastEventId;
  let seen = 0;
  let failures = 0;
  while (!o.signal.aborted && seen < o.max) {
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    o.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const body = await o.api.stream(o.path, o.query, last, ctl.signal);
      failures = 0;
      for await (const ev of readEvents(body, ctl.signal)) {
        if (ev.id !== undefined) last = ev.id;
        if (o.onEvent(ev) && ++seen >= o.max) break;
      }
    } catch (e) {
      if (o.signal.aborted) break;
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 400)) throw e;
      if (++failures > MAX_RECONNECTS) throw e;
      o.stderr(`stream interrupted (${(e as Error).message}); reconnecting after ${last ?? 'now'}\n`);
      await sleep(backoffDelay(failures, 500, 10_000), o.signal);
    } finally {
      o.signal.removeEventListener('abort', onAbort);
      ctl.abort();
    }
  }
}
