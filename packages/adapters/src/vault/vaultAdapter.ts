import { defaultCommonOptions, withDefaults } from '../common/AdapterOptions.js';
import { BoundedMap } from '../common/BoundedMap.js';
import { notJson, sourced } from '../common/createMapper.js';
import { IdentityAnnouncer } from '../common/IdentityAnnouncer.js';
import { LinearToken } from '../common/LinearToken.js';
import { announceIdentities } from '../common/Mapped.js';
import { deadLetter, type AdapterInput, type RecordAdapter, type SourcedResult, type Step } from '../common/MappingResult.js';
import { invalidRecord } from '../common/zodIssues.js';
import { mapVaultExchange, type KnownSession, type LeaseOwner, type VaultExchange, type VaultMemoryUpdate, type VaultMemoryView, type VaultOptions } from './mapVaultExchange.js';
import { VaultAuditEntry } from './VaultAuditEntry.js';

export const defaultVaultOptions: VaultOptions = {
  ...defaultCommonOptions,
  enforcerId: 'vault',
  defaultLeaseTtlMs: 768 * 3_600_000,
  maxPendingMs: 60_000,
  implicitSessions: true,
};

interface Pending {
  readonly entry: VaultAuditEntry;
  readonly raw: string;
  readonly timeMs: number;
}

/** The Vault reducer's memory. Every map is bounded by `memoryEntries`. */
export interface VaultState {
  readonly token: LinearToken;
  /** Requests waiting for their response, by request id, oldest first. */
  readonly pending: BoundedMap<string, Pending>;
  readonly sessionsByAccessor: BoundedMap<string, KnownSession>;
  /** HMAC'd client token → accessor of the session, for revocations and for unresolved tokens. */
  readonly accessorByToken: BoundedMap<string, string>;
  readonly leases: BoundedMap<string, LeaseOwner>;
  readonly announcer: IdentityAnnouncer;
}

/**
 * HashiCorp Vault audit log → livescope events. Request and response entries are joined by
 * `request.id`: the response is mapped (with its request's auth when the response lacks it) as soon as
 * it arrives; a request still waiting after `maxPendingMs` of log time, when evicted from the bounded
 * pending map, or at the end of input is mapped alone (only a denial carries meaning without a response).
 */
export function vaultAdapter(given?: Partial<VaultOptions>): RecordAdapter<VaultState> {
  const options = withDefaults(defaultVaultOptions, given);
  const capacity = options.memoryEntries;

  const view = (s: VaultState): VaultMemoryView => ({
    sessionByAccessor: (a) => s.sessionsByAccessor.get(a),
    sessionByToken: (t) => {
      const a = s.accessorByToken.get(t);
      return a === undefined ? undefined : s.sessionsByAccessor.get(a);
    },
    leaseOwner: (id) => s.leases.get(id),
    leasesWithPrefix: (prefix) => s.leases.entries().filter(([id]) => id.startsWith(prefix)),
  });

  const apply = (s: VaultState, updates: readonly VaultMemoryUpdate[]): void => {
    for (const u of updates) {
      switch (u.kind) {
        case 'session':
          s.sessionsByAccessor.set(u.accessor, u.session);
          if (u.clientToken) s.accessorByToken.set(u.clientToken, u.accessor);
          break;
        case 'session-ended':
          s.sessionsByAccessor.delete(u.accessor);
          break;
        case 'lease':
          s.leases.set(u.leaseId, u.owner);
          break;
        case 'lease-ended':
          s.leases.delete(u.leaseId);
          break;
      }
    }
  };

  const mapOne = (s: VaultState, x: VaultExchange, raw: string): SourcedResult => {
    const { mapped, updates } = mapVaultExchange(x, view(s), options);
    apply(s, updates);
    return sourced(raw, announceIdentities(mapped, s.announcer));
  };

  const next = (s: VaultState): VaultState => ({ ...s, token: s.token.consume() });

  return {
    source: 'vault',
    initialState: () => ({
      token: new LinearToken(),
      pending: new BoundedMap(capacity),
      sessionsByAccessor: new BoundedMap(capacity),
      accessorByToken: new BoundedMap(capacity),
      leases: new BoundedMap(capacity),
      announcer: new IdentityAnnouncer(options.announce, options.owner, capacity),
    }),

    step(state: VaultState, input: AdapterInput): Step<VaultState> {
      const s = next(state);
      if (!input.parsed.ok) return { state: s, results: [notJson(input.raw, input.parsed.error)] };
      const parsed = VaultAuditEntry.safeParse(input.parsed.value);
      if (!parsed.success) return { state: s, results: [sourced(input.raw, invalidRecord('not a Vault audit entry', parsed.error))] };
      const entry = parsed.data;
      const parsedTime = Date.parse(entry.time);
      const t = Number.isFinite(parsedTime) ? parsedTime : Number.NEGATIVE_INFINITY;
      const results: SourcedResult[] = [];
      // Requests that waited too long, in log time as of this entry, are mapped alone.
      for (let oldest = s.pending.oldest(); oldest && t - oldest[1].timeMs > options.maxPendingMs; oldest = s.pending.oldest()) {
        s.pending.delete(oldest[0]);
        results.push(mapOne(s, { request: oldest[1].entry }, oldest[1].raw));
      }
      if (entry.type === 'request') {
        const evicted = s.pending.set(entry.request.id, { entry, raw: input.raw, timeMs: t });
        for (const [, p] of evicted) results.push(mapOne(s, { request: p.entry }, p.raw));
      } else if (entry.type === 'response') {
        const request = s.pending.delete(entry.request.id)?.entry;
        results.push(mapOne(s, { ...(request ? { request } : {}), response: entry }, input.raw));
      } else {
        results.push(sourced(input.raw, deadLetter('unsupported', `vault audit entry type ${JSON.stringify(entry.type)} is not supported (only request and response)`)));
      }
      return { state: s, results };
    },

    flush(state: VaultState): Step<VaultState> {
      const s = next(state);
      const results = s.pending.entries().map(([, p]) => mapOne(s, { request: p.entry }, p.raw));
      s.pending.clear();
      return { state: s, results };
    },
  };
}
