import { AdapterError } from './AdapterError.js';
import type { AnnounceMode } from './IdentityAnnouncer.js';
import type { HumanMode } from './SkipNote.js';

/** Options every adapter takes. */
export interface CommonAdapterOptions {
  /** Written as `owner` of the identities an adapter announces. Default `unassigned`. */
  readonly owner: string;
  /** When to emit `identity.created`; see `AnnounceMode`. Default `first-seen`. */
  readonly announce: AnnounceMode;
  /** Capacity (entries) of each bounded map a reducer keeps. Default 10 000. */
  readonly memoryEntries: number;
  /** Records of people: `skip` (default; counted with a reason) or `keep` (carried as `HumanActivity`). */
  readonly humans: HumanMode;
}

export const defaultCommonOptions: CommonAdapterOptions = { owner: 'unassigned', announce: 'first-seen', memoryEntries: 10_000, humans: 'skip' };

export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  // An option given as `undefined` keeps its default.
  const out = { ...defaults, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) } as T;
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v <= 0)) throw new AdapterError('BAD_OPTIONS', `adapter option ${k} must be a positive number, got ${v}`);
  }
  return out;
}
