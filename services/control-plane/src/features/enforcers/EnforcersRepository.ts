import type { Store } from '@livescope/store';
import type { PgClient } from '../../persistence/Database.js';
import { isoOrNull } from '../../persistence/isoOrNull.js';

export interface EnforcerUpdate {
  readonly enforcerId: string;
  readonly lastSeen: string;
  readonly identities: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lastApplied: { readonly identityId: string; readonly version: number; readonly kind: string; readonly appliedAt: string; readonly producedAt: string } | null;
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  /** Every acknowledgement of this update was verified against the enforcement point's own key. */
  readonly verified: boolean;
}

export interface EnforcerRow {
  readonly enforcerId: string;
  readonly firstSeen: string | null;
  readonly lastSeen: string;
  readonly identities: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lastVersionAt: string | null;
  readonly lag: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } | null;
  readonly lastApplied: { readonly identityId: string; readonly version: number; readonly kind: string; readonly appliedAt: string; readonly producedAt: string | null } | null;
  /** Whether its latest acknowledgements were verified against its own key (null: not known, recorded before verification existed). */
  readonly acksVerified: boolean | null;
}

/**
 * Enforcement points as their acknowledgements describe them: `enforcer_status` (which the control
 * plane fills, beside the store's tables) and what it does not hold, the last version each applied
 * (`cp_enforcers`).
 */
export class EnforcersRepository {
  constructor(private readonly store: Store) {}

  async applyEnforcerUpdates(client: PgClient, updates: readonly EnforcerUpdate[]): Promise<void> {
    for (const u of updates) {
      await client.query(
        `INSERT INTO enforcer_status AS s (enforcer_id, last_seen, identities, applied, rejected, last_version_at, lag_p50_ms, lag_p99_ms, lag_max_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (enforcer_id) DO UPDATE SET
           last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
           identities = CASE WHEN EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.identities ELSE s.identities END,
           applied = s.applied + EXCLUDED.applied,
           rejected = s.rejected + EXCLUDED.rejected,
           last_version_at = GREATEST(s.last_version_at, EXCLUDED.last_version_at),
           lag_p50_ms = COALESCE(EXCLUDED.lag_p50_ms, s.lag_p50_ms),
           lag_p99_ms = COALESCE(EXCLUDED.lag_p99_ms, s.lag_p99_ms),
           lag_max_ms = COALESCE(EXCLUDED.lag_max_ms, s.lag_max_ms)`,
        [u.enforcerId, u.lastSeen, u.identities, u.applied, u.rejected, u.lastApplied?.appliedAt ?? null, u.lag?.p50Ms ?? null, u.lag?.p99Ms ?? null, u.lag?.maxMs ?? null],
      );
      const l = u.lastApplied;
      await client.query(
        `INSERT INTO cp_enforcers AS e (enforcer_id, first_seen, last_identity_id, last_version, last_kind, last_applied_at, last_produced_at, acks_verified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (enforcer_id) DO UPDATE SET
           first_seen = LEAST(e.first_seen, EXCLUDED.first_seen),
           acks_verified = EXCLUDED.acks_verified,
           last_identity_id = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_identity_id ELSE e.last_identity_id END,
           last_version = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_version ELSE e.last_version END,
           last_kind = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_kind ELSE e.last_kind END,
           last_produced_at = CASE WHEN EXCLUDED.last_applied_at IS NOT NULL AND (e.last_applied_at IS NULL OR EXCLUDED.last_applied_at >= e.last_applied_at) THEN EXCLUDED.last_produced_at ELSE e.last_produced_at END,
           last_applied_at = GREATEST(e.last_applied_at, EXCLUDED.last_applied_at)`,
        [u.enforcerId, u.lastSeen, l?.identityId ?? null, l?.version ?? null, l?.kind ?? null, l?.appliedAt ?? null, l?.producedAt ?? null, u.verified],
      );
    }
  }

  async listEnforcers(): Promise<EnforcerRow[]> {
    const { rows } = await this.store.query<{
      enforcer_id: string;
      last_seen: Date;
      identities: number;
      applied: string;
      rejected: string;
      last_version_at: Date | null;
      lag_p50_ms: number | null;
      lag_p99_ms: number | null;
      lag_max_ms: number | null;
      first_seen: Date | null;
      last_identity_id: string | null;
      last_version: string | null;
      last_kind: string | null;
      last_applied_at: Date | null;
      last_produced_at: Date | null;
      acks_verified: boolean | null;
    }>(
      `SELECT s.*, e.first_seen, e.last_identity_id, e.last_version, e.last_kind, e.last_applied_at, e.last_produced_at, e.acks_verified
         FROM enforcer_status s LEFT JOIN cp_enforcers e USING (enforcer_id) ORDER BY s.enforcer_id`,
      [],
      'read enforcers',
    );
    return rows.map((r) => ({
      enforcerId: r.enforcer_id,
      firstSeen: isoOrNull(r.first_seen),
      lastSeen: r.last_seen.toISOString(),
      identities: r.identities,
      applied: Number(r.applied),
      rejected: Number(r.rejected),
      lastVersionAt: isoOrNull(r.last_version_at),
      lag: r.lag_p50_ms === null || r.lag_p99_ms === null || r.lag_max_ms === null ? null : { p50Ms: r.lag_p50_ms, p99Ms: r.lag_p99_ms, maxMs: r.lag_max_ms },
      lastApplied:
        r.last_identity_id === null || r.last_version === null || r.last_applied_at === null
          ? null
          : { identityId: r.last_identity_id, version: Number(r.last_version), kind: r.last_kind ?? 'scope.change', appliedAt: r.last_applied_at.toISOString(), producedAt: isoOrNull(r.last_produced_at) },
      acksVerified: r.acks_verified,
    }));
  }
}
