import type { BroadcastEventType, EventData, EventType, LivescopeEventInput } from '@livescope/contracts';

type IdentityEventType = Exclude<EventType, BroadcastEventType>;

export interface EventStamp {
  readonly id: string;
  readonly time: string;
  /** CloudEvents `source`, e.g. `livescope-adapter/vault`. */
  readonly source: string;
}

/** An identity-scoped event as producers write it (validated later by the runner and the publisher). */
export function identityEventInput<T extends IdentityEventType>(type: T, subject: string, data: EventData<T>, stamp: EventStamp): LivescopeEventInput {
  return { specversion: '1.0', id: stamp.id, type, source: stamp.source, time: stamp.time, subject, data } as LivescopeEventInput;
}

/** An org-wide (broadcast) event, e.g. an order. */
export function broadcastEventInput<T extends BroadcastEventType>(type: T, data: EventData<T>, stamp: EventStamp): LivescopeEventInput {
  return { specversion: '1.0', id: stamp.id, type, source: stamp.source, time: stamp.time, data } as LivescopeEventInput;
}

/**
 * Makes a string usable inside a livescope id (printable ASCII without spaces): other characters and
 * `%` itself are percent-encoded, so distinct inputs stay distinct and the id stays readable.
 */
export function idPart(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c < 0x7f && ch !== '%') out += ch;
    else for (const b of new TextEncoder().encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Cuts a free text to the contract's limit, marking the cut. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Labels within the contract's limits (keys 1-128, values up to 256 characters); empty values dropped. */
export function labelsOf(entries: Readonly<Record<string, string | number | boolean | undefined | null>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) {
    if (v === undefined || v === null || v === '') continue;
    out[clip(k, 128)] = clip(String(v), 256);
  }
  return out;
}
