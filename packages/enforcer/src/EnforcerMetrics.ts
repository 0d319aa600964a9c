import { Counter, Gauge, type Registry } from 'prom-client';

/** Optional Prometheus metrics of an enforcement point, registered in the host's registry. */
export class EnforcerMetrics {
  readonly decisions: Counter<'outcome'>;
  readonly commands: Counter<'kind' | 'outcome'>;
  readonly identities: Gauge;
  readonly stalenessSeconds: Gauge;

  constructor(registry: Registry, stateSize: () => number, staleness: () => number) {
    this.decisions = new Counter({ name: 'livescope_enforcer_decisions_total', help: 'authorize() decisions by outcome code (allowed, not-in-scope, expired, stale, …).', labelNames: ['outcome'], registers: [registry] });
    this.commands = new Counter({ name: 'livescope_enforcer_commands_total', help: 'Commands received by kind and outcome (applied, stale-version, duplicate, rejected).', labelNames: ['kind', 'outcome'], registers: [registry] });
    this.identities = new Gauge({ name: 'livescope_enforcer_identities', help: 'Identities whose scope this enforcement point holds.', registers: [registry], collect() { this.set(stateSize()); } });
    this.stalenessSeconds = new Gauge({ name: 'livescope_enforcer_staleness_seconds', help: 'Seconds since the oldest last heartbeat of any partition (how stale the view may be).', registers: [registry], collect() { this.set(staleness()); } });
  }
}
