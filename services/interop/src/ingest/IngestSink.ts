import type { SkipNote } from '@livescope/adapters';
import type { DeadLetterReason, LivescopeEventInput } from '@livescope/contracts';

export interface RejectedRecord {
  readonly reason: DeadLetterReason;
  readonly message: string;
  /** The record's original text. */
  readonly raw: string;
  /** 1-based ordinal of the record in its input. */
  readonly ordinal: number;
}

/** What one record became, for `--dry-run` output and metrics. */
export interface RecordNote {
  /** 1-based ordinal of the record (for Vault, of the entry that completed the request/response pair). */
  readonly ordinal: number;
  readonly outcome: 'mapped' | 'skipped' | 'dead-letter';
  readonly events: number;
  /** The reason of a skip, a dead letter, or of withheld control events. */
  readonly reason?: string;
  readonly skip?: SkipNote;
  readonly deadLetter?: DeadLetterReason;
  /** Control event types withheld (no producer key allowed to send them). */
  readonly withheld?: readonly string[];
  /** Token-replay detections raised from this record. */
  readonly replays?: number;
}

/** Where mapped events and rejected records go: Kafka, or stdout in a dry run. */
export interface IngestSink {
  publish(events: readonly LivescopeEventInput[]): Promise<void>;
  deadLetter(records: readonly RejectedRecord[]): Promise<void>;
  /** What each record became (the dry run prints it; Kafka keeps only counts). */
  notes?(notes: readonly RecordNote[]): Promise<void>;
}
