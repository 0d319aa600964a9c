import type { LivescopeEventInput } from '@livescope/contracts';
import type { IdentityAnnouncer, IdentityDescription } from './IdentityAnnouncer.js';
import type { MappingResult } from './MappingResult.js';
import { sha256Hex } from './sha256.js';

/**
 * A mapping before identity announcement: the events, plus the identities they are about, so the
 * reducer can put an `identity.created` in front of the first event of an identity it has not seen.
 */
export interface Mapped extends MappingResult {
  readonly identities?: readonly IdentityDescription[];
  /** Prefix of the record's event ids, e.g. `vault:<request id>`; announcements derive their ids from it. */
  readonly recordKey?: string;
  readonly time?: string;
  readonly source?: string;
  /** Identities the record itself creates (`identity.created` among its events): never announced again. */
  readonly created?: readonly string[];
}

export function announceIdentities(mapped: Mapped, announcer: IdentityAnnouncer): MappingResult {
  const { identities, recordKey, time, source, created: createdByRecord, ...result } = mapped;
  for (const id of createdByRecord ?? []) announcer.markSeen(id);
  if (!identities?.length || !recordKey || !time || !source || result.deadLetter) return result;
  const created: LivescopeEventInput[] = [];
  const seen = new Set<string>();
  for (const identity of identities) {
    if (seen.has(identity.id)) continue;
    seen.add(identity.id);
    created.push(...announcer.announce(identity, { id: `${recordKey}/identity-${sha256Hex(identity.id).slice(0, 16)}`, time, source }));
  }
  return created.length ? { ...result, events: [...created, ...result.events] } : result;
}
