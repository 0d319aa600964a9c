import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's metrics (Prometheus text at `/metrics`), all `livescope_interop_*`. Label values are fixed lists, never input data. */
export class InteropMetrics {
  readonly registry = new Registry();
  readonly receivedSets = new Counter({ name: 'livescope_interop_ssf_received_sets_total', help: 'SETs pushed to the receiver, by outcome (accepted, or the RFC 8935 error)', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly queuedSets = new Counter({ name: 'livescope_interop_ssf_queued_sets_total', help: 'SETs queued for streams', registers: [this.registry] });
  readonly pushDeliveries = new Counter({ name: 'livescope_interop_ssf_push_deliveries_total', help: 'Push delivery attempts, by outcome (delivered, retry, failed)', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly commands = new Counter({ name: 'livescope_interop_caep_commands_total', help: 'Commands consumed by the CAEP bridge, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });
  readonly findings = new Counter({ name: 'livescope_interop_ocsf_findings_total', help: 'Drift alerts exported as OCSF findings, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly noEffect = new Counter({ name: 'livescope_interop_ssf_no_effect_sets_total', help: 'SETs accepted (202) that changed nothing, by reason (unmapped-event-type, no-effect, needs-producer-key, stream-control)', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly withheld = new Counter({ name: 'livescope_interop_ssf_withheld_events_total', help: 'Control events of received SETs not published: no producer key allowed to send them, by event type', labelNames: ['event_type'] as const, registers: [this.registry] });
  readonly pollRequests = new Counter({ name: 'livescope_interop_ssf_poll_requests_total', help: 'RFC 8936 polls this receiver made, by outcome (sets, empty, error)', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'livescope_interop_dead_letters_total', help: 'Inputs dead-lettered, by reason', labelNames: ['reason'] as const, registers: [this.registry] });

  constructor() {
    // Unprefixed (process_*, nodejs_*), as the standard Node.js dashboards and alerts expect.
    collectDefaultMetrics({ register: this.registry });
  }
}
