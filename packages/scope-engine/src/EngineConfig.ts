import { defaultIdentityLimits, type IdentityLimits } from './limits.js';

/** Tunables of the scope engine. Every duration is in milliseconds. */
export interface EngineConfig {
  /** How long a detected human use of a non-human identity stays live in the context. Default 1 h. */
  readonly humanUseTtlMs: number;
  /** Risk score set (at least) when a replayed token is detected. Default 90. */
  readonly replayRiskScore: number;
  /** A provisioned permission unused for this long raises an excess-privilege alert. Default 7 days. */
  readonly excessPrivilegeWindowMs: number;
  /** A single change adding at least this many permissions raises a sudden-widening alert. Default 10. */
  readonly suddenWideningThreshold: number;
  /** Events whose time is later than the broker's append time plus this are dead-lettered. Default 5 min. */
  readonly maxFutureSkewMs: number;
  /**
   * A signed control event whose own time is older than the broker's append time minus this is
   * refused (`stale-control-event`): a captured event replayed later cannot undo what came after it.
   * Default 5 min.
   */
  readonly maxControlEventAgeMs: number;
  /** Per-identity limits that keep every command below the broker's maximum message size. */
  readonly limits: IdentityLimits;
  /** How many recent event ids each identity remembers for duplicate detection. Default 16. */
  readonly dedupeWindow: number;
  /** At most this many future time boundaries are searched for a permission's `validUntil`. Default 8. */
  readonly horizonSearchDepth: number;
  /** Use of a permission is recorded at most once per this period. Default 1 h. */
  readonly usageGranularityMs: number;
  /** Ended sessions, revoked grants and leases remembered so late events cannot resurrect them. Default 16. */
  readonly tombstones: number;
  /**
   * Snapshots of an identity's scope are produced at most once per this period: a change schedules
   * one for this long after it (later changes ride on the one already scheduled), and the timer
   * produces it with the version held then. Changes carry the full scope, so enforcement points that
   * follow them lose nothing; the compacted snapshot topic lags the change topic by at most this much
   * (enforcers read that much of the change topic back when they start). 0: a snapshot with every
   * change. Default 0 (the worker sets its own, `LIVESCOPE_SNAPSHOT_INTERVAL_MS`).
   */
  readonly snapshotIntervalMs: number;
}

export const defaultEngineConfig: EngineConfig = {
  humanUseTtlMs: 60 * 60 * 1000,
  replayRiskScore: 90,
  excessPrivilegeWindowMs: 7 * 24 * 60 * 60 * 1000,
  suddenWideningThreshold: 10,
  maxFutureSkewMs: 5 * 60 * 1000,
  maxControlEventAgeMs: 5 * 60 * 1000,
  limits: defaultIdentityLimits,
  dedupeWindow: 16,
  horizonSearchDepth: 8,
  tombstones: 16,
  usageGranularityMs: 60 * 60 * 1000,
  snapshotIntervalMs: 0,
};
