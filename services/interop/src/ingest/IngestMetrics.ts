import { Counter, Registry } from 'prom-client';
import type { RecordNote } from './IngestSink.js';

/**
 * Metrics of `livescope-ingest` (Prometheus text at `/metrics` in webhook mode). Label values are
 * fixed lists — the source family, skip codes, dead-letter reasons, event types — never input data.
 */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({ name: 'livescope_ingest_records_total', help: 'Records read, by outcome (mapped, skipped, dead-letter)', labelNames: ['source', 'outcome'] as const, registers: [this.registry] });
  readonly skips = new Counter({ name: 'livescope_ingest_skipped_total', help: 'Records that produced no event, by skip code (human, not-final, failed, unattributed, no-effect, incomplete, needs-producer-key)', labelNames: ['source', 'code'] as const, registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'livescope_ingest_dead_letters_total', help: 'Records dead-lettered, by reason', labelNames: ['source', 'reason'] as const, registers: [this.registry] });
  readonly withheld = new Counter({ name: 'livescope_ingest_withheld_events_total', help: 'Control events not published because no producer key allowed to send them, by event type', labelNames: ['source', 'event_type'] as const, registers: [this.registry] });
  readonly replays = new Counter({ name: 'livescope_ingest_replays_detected_total', help: 'token-replay detections raised from credential uses', labelNames: ['source'] as const, registers: [this.registry] });
  readonly requests = new Counter({ name: 'livescope_ingest_webhook_requests_total', help: 'Webhook requests, by outcome (accepted, unauthenticated, too-large, kafka-unavailable)', labelNames: ['outcome'] as const, registers: [this.registry] });

  constructor(readonly source: string) {}

  record(n: RecordNote): void {
    const source = this.source;
    this.records.inc({ source, outcome: n.outcome });
    if (n.skip) this.skips.inc({ source, code: n.skip.code });
    if (n.deadLetter) this.deadLetters.inc({ source, reason: n.deadLetter });
    for (const t of n.withheld ?? []) this.withheld.inc({ source, event_type: t });
    if (n.replays) this.replays.inc({ source }, n.replays);
  }
}
