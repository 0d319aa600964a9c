import type { CensusRow } from './FleetRepository.js';
import type { FleetSummary } from './schemas.js';

const SIZE_BUCKETS: readonly { label: string; min: number; max: number | null }[] = [
  { label: '0', min: 0, max: 0 },
  { label: '1', min: 1, max: 1 },
  { label: '2', min: 2, max: 2 },
  { label: '3', min: 3, max: 3 },
  { label: '4–5', min: 4, max: 5 },
  { label: '6–10', min: 6, max: 10 },
  { label: '11–20', min: 11, max: 20 },
  { label: '21–50', min: 21, max: 50 },
  { label: '> 50', min: 51, max: null },
];

/** Totals, breakdowns and the scope-size histogram of the fleet from its census groups. */
export function fleetCensus(rows: readonly CensusRow[]): Pick<FleetSummary, 'identities' | 'byStatus' | 'byKind' | 'byNamespace' | 'permissionsInScope' | 'openSessions' | 'scopeSizes'> {
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const byNamespace: Record<string, number> = {};
  const sizes = SIZE_BUCKETS.map((b) => ({ ...b, identities: 0 }));
  let identities = 0;
  let permissionsInScope = 0;
  let openSessions = 0;
  for (const r of rows) {
    identities += r.identities;
    permissionsInScope += r.scopeSize * r.identities;
    openSessions += r.sessions;
    byStatus[r.status] = (byStatus[r.status] ?? 0) + r.identities;
    byKind[r.kind] = (byKind[r.kind] ?? 0) + r.identities;
    byNamespace[r.namespace] = (byNamespace[r.namespace] ?? 0) + r.identities;
    const b = sizes.find((x) => r.scopeSize >= x.min && (x.max === null || r.scopeSize <= x.max));
    if (b) b.identities += r.identities;
  }
  return { identities, byStatus, byKind, byNamespace, permissionsInScope, openSessions, scopeSizes: sizes };
}
