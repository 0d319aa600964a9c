import type { DeadLetterReason, LivescopeEventInput } from '@livescope/contracts';

export interface RejectedRecord {
  readonly reason: DeadLetterReason;
  readonly message: string;
  /** The record's original text. */
  readonly raw: string;
  /** 1-based ordinal of the record in its input. */
  readonly ordinal: number;
}

/** Where mapped events and rejected records go: Kafka, or stdout in a dry run. */
export interface IngestSink {
  publish(events: readonly LivescopeEventInput[]): Promise<void>;
  deadLetter(records: readonly RejectedRecord[]): Promise<void>;
}
