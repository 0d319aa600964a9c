import type { AuditRecord, Store } from '@livescope/store';
import type { AuditKey } from '../../audit/auditKey.js';
import { auditRecord, type AuditSqlRow } from '../../persistence/auditRows.js';
import { STATE_JSONB } from '../../persistence/WorkerState.js';

export interface IdentityFilter {
  /** Case-insensitive substring of the id. */
  readonly q?: string | undefined;
  readonly kind?: string | undefined;
  readonly namespace?: string | undefined;
  readonly status?: string | undefined;
}

export interface IdentityRow {
  readonly identityId: string;
  readonly partition: number;
  readonly version: number;
  readonly status: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly owner: string;
  readonly scopeSize: number;
  readonly sessions: number;
  readonly riskScore: number;
  readonly updatedAt: string;
}


/** Filters of `listIdentities` and `countIdentities` over `i` (identity_state) and `j.s` (its state as jsonb); four parameters from $`first`. */
const identityFilter = (first: number): string => {
  const [q, kind, ns, status] = [first, first + 1, first + 2, first + 3].map((n) => `$${n}`);
  return `(${q}::text IS NULL OR strpos(lower(i.identity_id), lower(${q})) > 0) AND (${kind}::text IS NULL OR j.s->>'k' = ${kind})
          AND (${ns}::text IS NULL OR j.s->>'ns' = ${ns}) AND (${status}::text IS NULL OR i.status = ${status})`;
};
const identityFilterParams = (f: IdentityFilter): (string | null)[] => [f.q ?? null, f.kind ?? null, f.namespace ?? null, f.status ?? null];

/**
 * Reads about identities: pages of the fleet from the workers' `identity_state`, and an identity's
 * history and past scopes from the audit log.
 */
export class IdentitiesRepository {
  constructor(private readonly store: Store) {}

  /**
   * A page of identities in id order, after `after`, matching the filter (fields of the state as
   * `STATE_JSONB` reads them). Walking the primary key and stopping at `limit` keeps a page cheap
   * however large the fleet.
   */
  async listIdentities(f: IdentityFilter, after: string | undefined, limit: number): Promise<IdentityRow[]> {
    const { rows } = await this.store.query<{ identity_id: string; partition: number; version: string; status: string; updated_at: Date; kind: string | null; name: string | null; namespace: string | null; owner: string | null; scope_size: number | null; sessions: number | null; risk: number | null }>(
      `SELECT i.identity_id, i.partition, i.version, i.status, i.updated_at, j.s->>'k' AS kind, j.s->>'n' AS name, j.s->>'ns' AS namespace, j.s->>'o' AS owner,
              jsonb_array_length(j.s->'sc') AS scope_size, jsonb_array_length(j.s->'s') AS sessions, (j.s->>'r')::float8 AS risk
         FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j
        WHERE ($1::text IS NULL OR i.identity_id > $1) AND ${identityFilter(2)}
        ORDER BY i.identity_id LIMIT $6`,
      [after ?? null, ...identityFilterParams(f), limit],
      'list identities',
    );
    return rows.map((r) => ({
      identityId: r.identity_id,
      partition: r.partition,
      version: Number(r.version),
      status: r.status,
      kind: r.kind ?? 'workload',
      name: r.name ?? r.identity_id,
      namespace: r.namespace ?? '',
      owner: r.owner ?? '',
      scopeSize: r.scope_size ?? 0,
      sessions: r.sessions ?? 0,
      riskScore: r.risk ?? 0,
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  async countIdentities(f: IdentityFilter): Promise<number> {
    const { rows } = await this.store.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM identity_state i CROSS JOIN LATERAL (SELECT ${STATE_JSONB} AS s) j WHERE ${identityFilter(1)}`,
      identityFilterParams(f),
      'count identities',
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The audit rows of an identity, newest first, strictly before `before`. */
  async history(identityId: string, kinds: readonly string[], before: AuditKey | undefined, limit: number): Promise<AuditRecord[]> {
    const { rows } = await this.store.query<AuditSqlRow>(
      `SELECT partition, seq, at, kind, identity_id, version, actor, event_id, payload FROM audit_log
        WHERE identity_id = $1 AND kind = ANY($2)
          AND ($3::timestamptz IS NULL OR (at, partition, seq) < ($3::timestamptz, $4::integer, $5::bigint))
        ORDER BY at DESC, partition DESC, seq DESC LIMIT $6`,
      [identityId, kinds, before?.at ?? null, before?.partition ?? 0, before?.seq ?? 0, limit],
      'read history',
    );
    return rows.map(auditRecord);
  }

  async scopeChangeAt(identityId: string, version: number): Promise<AuditRecord | undefined> {
    const [row] = await this.store.auditOf(identityId, { kinds: ['scope.change'], version, limit: 1 });
    return row;
  }
}
