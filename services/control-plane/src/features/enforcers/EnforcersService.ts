import type { z } from 'zod';
import type { ControlPlaneConfig } from '../../config.js';
import type { ControlPlaneMetrics } from '../../ControlPlaneMetrics.js';
import type { CommandTracker } from '../../tracking/CommandTracker.js';
import { enforcerView } from './enforcerView.js';
import type { EnforcersRepository } from './EnforcersRepository.js';
import type { EnforcersApi } from './routes.js';
import type * as S from './schemas.js';

export interface EnforcersDeps {
  readonly config: Pick<ControlPlaneConfig, 'enforcerLivenessMs'>;
  readonly repository: EnforcersRepository;
  readonly tracker: CommandTracker;
  readonly metrics: ControlPlaneMetrics;
}

/** What other features may ask of enforcement points. */
export interface EnforcerCounts {
  /** Enforcement points heard from within the liveness window at `nowMs`, of all ever heard from. */
  counts(nowMs: number): Promise<{ known: number; total: number }>;
}

const STALENESS_GRACE_MS = 5000;

/** Enforcement points: what each reported, whether it is live, and how far behind this instance sees it. */
export class EnforcersService implements EnforcersApi, EnforcerCounts {
  constructor(private readonly d: EnforcersDeps) {}

  async enforcers(): Promise<Omit<z.input<typeof S.EnforcersList>, 'nextCursor'>> {
    const now = Date.now();
    const rows = await this.d.repository.listEnforcers();
    const views = rows.map((r) => enforcerView(r, this.d.tracker.staleness(r.enforcerId, now, STALENESS_GRACE_MS), now, this.d.config.enforcerLivenessMs));
    return { enforcers: views, known: views.filter((v) => v.live).length };
  }

  async counts(nowMs: number): Promise<{ known: number; total: number }> {
    const rows = await this.d.repository.listEnforcers();
    const known = rows.filter((e) => nowMs - Date.parse(e.lastSeen) <= this.d.config.enforcerLivenessMs).length;
    return { known, total: rows.length };
  }

  /** Refreshes the enforcer gauges (called before each scrape). */
  async refreshGauges(): Promise<void> {
    const { enforcers, known } = await this.enforcers();
    this.d.metrics.enforcersKnown.set(known);
    for (const e of enforcers) {
      this.d.metrics.enforcerSilence.set({ enforcer: e.enforcerId }, e.silenceMs / 1000);
      if (e.stalenessMs !== null) this.d.metrics.enforcerStaleness.set({ enforcer: e.enforcerId }, e.stalenessMs / 1000);
    }
  }
}
