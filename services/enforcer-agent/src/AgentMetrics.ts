import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The APIs a check arrives through. */
export const CheckApi = { forwardAuth: 'forward-auth', json: 'json', batch: 'batch', extAuthz: 'ext-authz' } as const;
export type CheckApi = (typeof CheckApi)[keyof typeof CheckApi];

/** The agent's own metrics, next to the SDK's (`livescope_enforcer_*`) in one registry. */
export class AgentMetrics {
  readonly checks: Counter<'api' | 'outcome'>;
  readonly checkSeconds: Histogram<'api'>;
  readonly refused: Counter<'api' | 'reason'>;
  readonly watchers: Gauge;

  constructor(registry: Registry, watchers: () => number) {
    this.checks = new Counter({ name: 'livescope_agent_checks_total', help: 'Checks answered, by API and outcome code (allowed, not-in-scope, unauthenticated, path-traversal, …).', labelNames: ['api', 'outcome'], registers: [registry] });
    this.checkSeconds = new Histogram({
      name: 'livescope_agent_check_seconds',
      help: 'Time to answer one check (identity verification included), by API.',
      labelNames: ['api'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    });
    this.refused = new Counter({ name: 'livescope_agent_refused_requests_total', help: 'Requests refused before any check (malformed JSON, oversized body, batch over the limit, …).', labelNames: ['api', 'reason'], registers: [registry] });
    this.watchers = new Gauge({ name: 'livescope_agent_watch_streams', help: 'Open watch streams (GET /v1/watch).', registers: [registry], collect() { this.set(watchers()); } });
  }
}
