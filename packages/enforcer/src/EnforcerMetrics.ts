import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Registry } from 'prom-client';

/**
 * prom-client is an optional peer dependency: loaded only when a registry is passed, from the
 * host's own installation (so its metrics land in the host's registry class).
 */
function promClient(): typeof PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as typeof PromClient;
  } catch (e) {
    throw new Error('metricsRegistry needs prom-client: npm install prom-client', { cause: e });
  }
}

/** What the gauges read when scraped. */
export interface EnforcerGaugeSources {
  /** Identities whose scope is held. */
  readonly identities: () => number;
  /** Seconds since the oldest last heartbeat of any partition. */
  readonly staleness: () => number;
  /** Identities behind the version recorded in the high-water file. */
  readonly behind: () => number;
  /** Partitions not advancing while input waits, for longer than maxStalenessMs. */
  readonly stalled: () => number;
}

/** Optional Prometheus metrics of an enforcement point, registered in the host's registry. */
export class EnforcerMetrics {
  readonly decisions: Counter<'outcome'>;
  readonly commands: Counter<'kind' | 'outcome'>;
  readonly identities: Gauge;
  readonly stalenessSeconds: Gauge;
  readonly identitiesBehind: Gauge;
  readonly stalledPartitions: Gauge;

  constructor(registry: Registry, sources: EnforcerGaugeSources) {
    const { Counter, Gauge } = promClient();
    this.decisions = new Counter({ name: 'livescope_enforcer_decisions_total', help: 'authorize() decisions by outcome code (allowed, not-in-scope, expired, session-not-bound, stale, …).', labelNames: ['outcome'], registers: [registry] });
    this.commands = new Counter({ name: 'livescope_enforcer_commands_total', help: 'Commands received by kind and outcome (applied, duplicate, stale-version, rejected).', labelNames: ['kind', 'outcome'], registers: [registry] });
    this.identities = new Gauge({ name: 'livescope_enforcer_identities', help: 'Identities whose scope this enforcement point holds.', registers: [registry], collect() { this.set(sources.identities()); } });
    this.stalenessSeconds = new Gauge({ name: 'livescope_enforcer_staleness_seconds', help: 'Seconds since the oldest last heartbeat of any partition (how stale the view may be).', registers: [registry], collect() { this.set(sources.staleness()); } });
    this.identitiesBehind = new Gauge({ name: 'livescope_enforcer_identities_behind', help: 'Identities held at a version below the one recorded in the high-water file before a restart (all their actions are denied).', registers: [registry], collect() { this.set(sources.behind()); } });
    this.stalledPartitions = new Gauge({ name: 'livescope_enforcer_stalled_partitions', help: 'Partitions whose applied offset has not advanced for maxStalenessMs while input waits (sensitive actions fail closed).', registers: [registry], collect() { this.set(sources.stalled()); } });
  }
}
