import { AdapterError } from './AdapterError.js';
import type { AnnounceMode } from './IdentityAnnouncer.js';

/** Options every adapter takes. */
export interface CommonAdapterOptions {
  /** Written as `owner` of the identities an adapter announces. Default `unassigned`. */
  readonly owner: string;
  /** When to emit `identity.created`; see `AnnounceMode`. Default `first-seen`. */
  readonly announce: AnnounceMode;
  /** Capacity (entries) of each bounded map a reducer keeps. Default 10 000. */
  readonly memoryEntries: number;
}

export const defaultCommonOptions: CommonAdapterOptions = { owner: 'unassigned', announce: 'first-seen', memoryEntries: 10_000 };

export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const out = { ...defaults, ...(given ?? {}) };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v <= 0)) throw new AdapterError('BAD_OPTIONS', `adapter option ${k} must be a positive number, got ${v}`);
  }
  return out;
}
