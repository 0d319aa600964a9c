import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the worker exposes on /metrics (listed in docs/operations.md). */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly eventsConsumed = new Counter({ name: 'livescope_events_consumed_total', help: 'Input events consumed, by event type and outcome (applied, unchanged, duplicate, rejected).', labelNames: ['type', 'outcome'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'livescope_dead_letters_total', help: 'Messages sent to the dead-letter topic, by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly commands = new Counter({ name: 'livescope_commands_produced_total', help: 'Commands and alerts produced, by kind.', labelNames: ['kind'], registers: [this.registry] });
  readonly timersFired = new Counter({ name: 'livescope_timers_fired_total', help: 'Scope timers fired (validUntil passed, expiries) without an input event.', registers: [this.registry] });
  readonly batchSeconds = new Histogram({ name: 'livescope_batch_seconds', help: 'Time to process one batch, by phase (apply, produce, commit).', labelNames: ['phase'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly recomputeSeconds = new Histogram({ name: 'livescope_recompute_seconds', help: 'Time spent applying events and recomputing scopes per batch.', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly identities = new Gauge({ name: 'livescope_identities_held', help: 'Identities held in memory, by partition.', labelNames: ['partition'], registers: [this.registry] });
  readonly scopeSize = new Histogram({ name: 'livescope_scope_size', help: 'Permissions in an identity scope after a change.', buckets: [0, 1, 2, 5, 10, 20, 50, 100, 250], registers: [this.registry] });
  readonly consumerLag = new Gauge({ name: 'livescope_consumer_lag_messages', help: 'High watermark minus next offset to process, by partition.', labelNames: ['partition'], registers: [this.registry] });
  readonly transientErrors = new Counter({ name: 'livescope_transient_errors_total', help: 'Transient errors retried with backoff, by component (kafka, postgres, registry).', labelNames: ['component'], registers: [this.registry] });
  readonly partitionsOwned = new Gauge({ name: 'livescope_partitions_owned', help: 'Partitions of the events topic this worker owns.', registers: [this.registry] });
  readonly timerFailures = new Counter({ name: 'livescope_timer_failures_total', help: 'Scope timers that failed to fire (the identity keeps its state until its next event).', registers: [this.registry] });
  readonly reportsRelayed = new Counter({ name: 'livescope_reports_relayed_total', help: 'Enforcement decision reports relayed from the reports topic into the events topic.', registers: [this.registry] });
  readonly partitionStuck = new Gauge({ name: 'livescope_partition_stuck', help: '1 while a partition has input waiting and has not advanced for LIVESCOPE_PARTITION_STUCK_MS, by partition.', labelNames: ['partition'], registers: [this.registry] });
  readonly batchFailures = new Counter({ name: 'livescope_batch_failures_total', help: 'Batches that failed after the engine applied them, by classification (poison batches are retried message by message).', labelNames: ['class'], registers: [this.registry] });
  readonly state = new Gauge({ name: 'livescope_worker_state', help: '1 for the state the worker is in (starting, running, stopping, stopped, failed).', labelNames: ['state'], registers: [this.registry] });
  readonly partitionLoadSeconds = new Histogram({ name: 'livescope_partition_load_seconds', help: 'Time from a partition assignment until every identity of it is loaded from PostgreSQL (background loads: the partition processes before).', buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30], registers: [this.registry] });

  constructor() {
    // Unprefixed (process_*, nodejs_*), as the standard Node.js dashboards and alerts expect.
    collectDefaultMetrics({ register: this.registry });
  }
}
