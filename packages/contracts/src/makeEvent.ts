import { LivescopeEvent, type BroadcastEventType, type EventType, type LivescopeEventInput } from './events.js';

type InputOf<T extends EventType> = Extract<LivescopeEventInput, { type: T }>;
export type EventData<T extends EventType> = InputOf<T>['data'];

export interface EventMeta {
  readonly id: string;
  /** RFC 3339 time, or epoch ms. */
  readonly time: string | number;
  readonly source?: string;
}

const toIso = (t: string | number): string => (typeof t === 'number' ? new Date(t).toISOString() : t);

/** Builds and validates an identity-scoped event. */
export function identityEvent<T extends Exclude<EventType, BroadcastEventType>>(type: T, subject: string, data: EventData<T>, meta: EventMeta): Extract<LivescopeEvent, { type: T }> {
  return LivescopeEvent.parse({ specversion: '1.0', id: meta.id, type, source: meta.source ?? 'livescope', time: toIso(meta.time), subject, data }) as Extract<LivescopeEvent, { type: T }>;
}

/** Builds and validates an org-wide (broadcast) event. */
export function broadcastEvent<T extends BroadcastEventType>(type: T, data: EventData<T>, meta: EventMeta): Extract<LivescopeEvent, { type: T }> {
  return LivescopeEvent.parse({ specversion: '1.0', id: meta.id, type, source: meta.source ?? 'livescope', time: toIso(meta.time), data }) as Extract<LivescopeEvent, { type: T }>;
}
