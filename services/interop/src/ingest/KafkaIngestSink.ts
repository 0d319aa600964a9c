import type { LivescopeEventInput } from '@livescope/contracts';
import type { KafkaContext } from '../kafka/KafkaContext.js';
import type { IngestSink, RecordNote, RejectedRecord } from './IngestSink.js';

/** Events to the events topic (keyed by identity, via EventPublisher); rejects to the dead-letter topic. */
export class KafkaIngestSink implements IngestSink {
  constructor(
    private readonly kafka: KafkaContext,
    /** `ingest:<source>:<file|stdin|webhook>`, recorded as the dead letters' source topic. */
    private readonly origin: string,
  ) {}

  async publish(events: readonly LivescopeEventInput[]): Promise<void> {
    await this.kafka.publisher.publish(events);
  }

  async deadLetter(records: readonly RejectedRecord[]): Promise<void> {
    const timestamp = new Date().toISOString();
    await this.kafka.deadLetters.write(records.map((r) => ({ reason: r.reason, message: r.message, origin: { topic: this.origin, partition: -1, offset: String(r.ordinal), timestamp }, value: Buffer.from(r.raw, 'utf8') })));
  }
}

/** Prints what each record became, its events and rejects as JSON lines instead of writing to Kafka (`--dry-run`). */
export class PrintingSink implements IngestSink {
  constructor(private readonly write: (line: string) => void) {}

  notes(notes: readonly RecordNote[]): Promise<void> {
    for (const n of notes) this.write(JSON.stringify({ kind: 'record', ...n }));
    return Promise.resolve();
  }

  publish(events: readonly LivescopeEventInput[]): Promise<void> {
    for (const e of events) this.write(JSON.stringify(e));
    return Promise.resolve();
  }

  deadLetter(records: readonly RejectedRecord[]): Promise<void> {
    for (const r of records) this.write(JSON.stringify({ kind: 'dead-letter', reason: r.reason, message: r.message, ordinal: r.ordinal, value: Buffer.from(r.raw).toString('base64') }));
    return Promise.resolve();
  }
}
