import type { z } from 'zod';
import type { ActivityWindow } from '../../tracking/ActivityWindow.js';
import type { AlertCounts } from '../alerts/index.js';
import type { EnforcerCounts } from '../enforcers/index.js';
import type { OrdersInForce } from '../orders/index.js';
import { fleetCensus } from './fleetCensus.js';
import type { FleetRepository } from './FleetRepository.js';
import type { FleetApi } from './routes.js';
import type * as S from './schemas.js';

export interface FleetDeps {
  readonly repository: FleetRepository;
  /** The orders feature: how many orders are in force. */
  readonly orders: OrdersInForce;
  /** The enforcement-points feature: how many are live. */
  readonly enforcers: EnforcerCounts;
  /** The alerts feature: how many are unacknowledged. */
  readonly alerts: AlertCounts;
  /** Scope changes and revocations per minute, from the command topics. */
  readonly activity: ActivityWindow;
}

/** The fleet summary scans every identity state: answer from a recent one under load. */
const FLEET_CACHE_MS = 2000;
const DAY_MS = 86_400_000;

/** The fleet at a glance: the census of identities, orders in force, enforcement points, alerts and activity. */
export class FleetService implements FleetApi {
  private fleetCache: { atMs: number; value: Promise<S.FleetSummary> } | undefined;

  constructor(private readonly d: FleetDeps) {}

  fleet(): Promise<z.input<typeof S.FleetSummary>> {
    const now = Date.now();
    if (this.fleetCache && now - this.fleetCache.atMs < FLEET_CACHE_MS) return this.fleetCache.value;
    const value = this.fleetNow(now);
    this.fleetCache = { atMs: now, value };
    value.catch(() => (this.fleetCache = undefined));
    return value;
  }

  private async fleetNow(now: number): Promise<S.FleetSummary> {
    const [census, ordersInForce, enforcers, unacknowledged] = await Promise.all([
      this.d.repository.census(),
      this.d.orders.inForce(now),
      this.d.enforcers.counts(now),
      this.d.alerts.unacknowledgedSince(new Date(now - DAY_MS).toISOString()),
    ]);
    return {
      at: new Date(now).toISOString(),
      ...fleetCensus(census),
      ordersInForce,
      enforcers,
      alerts: { unacknowledged },
      activity: { bucketMs: this.d.activity.bucketMs, buckets: this.d.activity.series(now).map(({ atMs, ...c }) => ({ at: new Date(atMs).toISOString(), ...c })) },
    };
  }
}
