import type { IdentityKind, LivescopeEventInput } from '@livescope/contracts';
import { BoundedMap } from './BoundedMap.js';
import { identityEventInput, type EventStamp } from './eventBuilders.js';

/**
 * When to emit `identity.created` for an identity a record names:
 * - `first-seen` (default): the first time it appears in this input stream (the worker ignores the
 *   re-announcement of an identity it already knows, so a restart of the adapter is harmless);
 * - `always`: before every event of the identity;
 * - `never`: identities are provisioned elsewhere (events about unknown identities are dead-lettered
 *   by the worker with reason `unknown-identity`).
 */
export type AnnounceMode = 'first-seen' | 'always' | 'never';

export interface IdentityDescription {
  readonly id: string;
  readonly kind: IdentityKind;
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Record<string, string>;
  /** Overrides the adapter's configured owner when the source names one (GitHub repository owner, Okta token creator). */
  readonly owner?: string;
}

export class IdentityAnnouncer {
  private readonly seen: BoundedMap<string, true>;

  constructor(
    readonly mode: AnnounceMode,
    readonly owner: string,
    capacity: number,
  ) {
    this.seen = new BoundedMap(capacity);
  }

  /** The `identity.created` to emit before events of `identity`, if any. Its id derives from the record's. */
  announce(identity: IdentityDescription, stamp: EventStamp): LivescopeEventInput[] {
    if (this.mode === 'never') return [];
    if (this.mode === 'first-seen' && this.seen.has(identity.id)) return [];
    this.seen.set(identity.id, true);
    const data = { kind: identity.kind, name: identity.name, namespace: identity.namespace, owner: identity.owner ?? this.owner, ...(identity.labels && Object.keys(identity.labels).length ? { labels: identity.labels } : {}) };
    return [identityEventInput('identity.created', identity.id, data, stamp)];
  }

  /** Records that the identity is known (e.g. it was created by the record itself). */
  markSeen(id: string): void {
    this.seen.set(id, true);
  }
}
