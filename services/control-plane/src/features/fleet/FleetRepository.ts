import type { Store } from '@livescope/store';
import { STATE_JSONB } from '../../persistence/WorkerState.js';

/** One group of the fleet census: identities sharing status, kind, namespace and scope size. */
export interface CensusRow {
  readonly status: string;
  readonly kind: string;
  readonly namespace: string;
  readonly scopeSize: number;
  readonly identities: number;
  readonly sessions: number;
}

/** The fleet census over the workers' `identity_state`. */
export class FleetRepository {
  constructor(private readonly store: Store) {}

  /** The fleet grouped by status, kind, namespace and scope size (one scan of identity_state). */
  async census(): Promise<CensusRow[]> {
    const { rows } = await this.store.query<{ status: string; kind: string | null; namespace: string | null; scope_size: number | null; identities: string; sessions: string | null }>(
      `SELECT i.status, j.s->>'k' AS kind, j.s->>'ns' AS namespace, jsonb_array_length(j.s->'sc') AS scope_size,
              count(*)::text AS identities, sum(jsonb_array_length(j.s->'s'))::text AS sessions
         FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j
        GROUP BY 1, 2, 3, 4`,
      [],
      'fleet census',
    );
    return rows.map((r) => ({ status: r.status, kind: r.kind ?? 'workload', namespace: r.namespace ?? '', scopeSize: r.scope_size ?? 0, identities: Number(r.identities), sessions: Number(r.sessions ?? 0) }));
  }
}
