import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the control plane exposes on /metrics (listed in docs/operations.md). */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'livescope_control_plane_http_requests_total', help: 'API requests, by route template, method and status.', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly requestSeconds = new Histogram({ name: 'livescope_control_plane_http_request_duration_seconds', help: 'API request duration, by route template and method.', labelNames: ['route', 'method'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [this.registry] });
  readonly authFailures = new Counter({ name: 'livescope_control_plane_auth_failures_total', help: 'Refused API calls, by reason (missing, malformed, expired, bad-signature, unknown-key, wrong-audience, wrong-issuer, invalid-claims, forbidden).', labelNames: ['reason'], registers: [this.registry] });
  readonly orders = new Counter({ name: 'livescope_control_plane_orders_total', help: 'Orders durably published through the API, by kind, and lifts (kind="lift").', labelNames: ['kind'], registers: [this.registry] });
  readonly approvals = new Counter({ name: 'livescope_control_plane_approvals_total', help: 'Approvals published through the API, by action (granted, revoked).', labelNames: ['action'], registers: [this.registry] });
  readonly applyLag = new Histogram({
    name: 'livescope_control_plane_enforcer_apply_lag_seconds',
    help: 'Revocation lag: from a command being produced to an enforcement point applying it, by enforcer and kind (scope.change, revocation).',
    labelNames: ['enforcer', 'kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly lagQuantiles = new Gauge({ name: 'livescope_control_plane_enforcer_lag_seconds', help: 'p50 / p99 / max apply lag over the last 1024 commands, per enforcer (quantile="0.5", "0.99", "max"), as in enforcer_status.', labelNames: ['enforcer', 'quantile'], registers: [this.registry] });
  readonly enforcerRejected = new Counter({ name: 'livescope_control_plane_enforcer_rejected_commands_total', help: 'Commands enforcement points rejected (unsigned, forged, replayed), per enforcer.', labelNames: ['enforcer'], registers: [this.registry] });
  readonly acksRefused = new Counter({ name: 'livescope_control_plane_enforcer_acks_refused_total', help: 'Acknowledgements dropped by their signature check (unsigned for an enforcement point with keys, forged, spliced, or from one without keys when signed ones are required), by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly enforcersKnown = new Gauge({ name: 'livescope_control_plane_enforcers_known', help: 'Enforcement points heard from within the liveness window.', registers: [this.registry] });
  readonly enforcerStaleness = new Gauge({ name: 'livescope_control_plane_enforcer_unacknowledged_seconds', help: 'Age of the oldest recent command an enforcement point has not acknowledged (0: up to date), per enforcer, as the control plane sees its acknowledgements.', labelNames: ['enforcer'], registers: [this.registry] });
  readonly enforcerSilence = new Gauge({ name: 'livescope_control_plane_enforcer_silence_seconds', help: 'Seconds since the last acknowledgement of an enforcement point, per enforcer.', labelNames: ['enforcer'], registers: [this.registry] });
  readonly alertsStored = new Counter({ name: 'livescope_control_plane_alerts_stored_total', help: 'Drift alerts stored for queries and streams, by type and severity.', labelNames: ['type', 'severity'], registers: [this.registry] });
  readonly tokenChecks = new Counter({ name: 'livescope_control_plane_token_checks_total', help: 'Bearer tokens checked (signature, issuer, audience, expiry), by outcome (accepted, refused); requests the unauthenticated rate limit refuses are never checked.', labelNames: ['outcome'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'livescope_control_plane_rate_limited_total', help: 'Requests answered 429, by budget (unauthenticated: per address before any token check; subject: per token subject; public: per address on the open routes; streams: concurrent event streams per subject).', labelNames: ['budget'], registers: [this.registry] });
  readonly sseClients = new Gauge({ name: 'livescope_control_plane_sse_clients', help: 'Open Server-Sent Events streams.', registers: [this.registry] });
  readonly sseEnded = new Counter({ name: 'livescope_control_plane_sse_ended_total', help: 'Server-Sent Events streams ended, by reason (client-gone, token-expired, max-duration, error).', labelNames: ['reason'], registers: [this.registry] });
  readonly consumed = new Counter({ name: 'livescope_control_plane_messages_consumed_total', help: 'Messages the control plane consumed, by topic kind and outcome (applied, skipped, poison).', labelNames: ['topic', 'outcome'], registers: [this.registry] });
  readonly transientErrors = new Counter({ name: 'livescope_control_plane_transient_errors_total', help: 'Errors retried with backoff, by component (postgres, kafka).', labelNames: ['component'], registers: [this.registry] });

  constructor() {
    // Unprefixed (process_*, nodejs_*), as the standard Node.js dashboards and alerts expect.
    collectDefaultMetrics({ register: this.registry });
  }
}
