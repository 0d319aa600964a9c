import type { DeliveryMethod } from '@livescope/caep';

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

export type StreamDelivery = { readonly method: typeof DeliveryMethod.push; readonly endpoint_url: string; readonly authorization_header?: string } | { readonly method: typeof DeliveryMethod.poll; readonly endpoint_url: string };

/** An SSF event stream (SSF 1.0 §8.1.1) with the transmitter's bookkeeping. */
export interface StreamRecord {
  readonly streamId: string;
  /** The receiver client that owns it. */
  readonly clientId: string;
  readonly aud: string | readonly string[];
  readonly delivery: StreamDelivery;
  readonly eventsRequested: readonly string[];
  readonly description?: string;
  readonly status: StreamStatus;
  readonly statusReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Epoch ms of the last verification request (rate limit). */
  readonly lastVerificationAt?: number;
}

/** A SET waiting for delivery on a stream (push: until the receiver accepts it; poll: until acknowledged). */
export interface OutboxEntry {
  readonly streamId: string;
  readonly jti: string;
  readonly set: string;
  readonly eventType: string;
  readonly createdAt: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly deliveredAt?: number;
  readonly failedAt?: number;
  readonly lastError?: string;
}

export interface PollResult {
  readonly entries: readonly OutboxEntry[];
  readonly moreAvailable: boolean;
}

/**
 * The transmitter's state: streams, the subjects added to or removed from them, the outbox of SETs
 * per stream, and the receiver's memory of received `jti`s. PostgreSQL in production (several
 * instances share it), memory for tests and `--no-pg` development.
 */
export interface SsfStore {
  createStream(s: StreamRecord): Promise<void>;
  getStream(streamId: string): Promise<StreamRecord | undefined>;
  listStreams(clientId: string): Promise<StreamRecord[]>;
  /** Every stream that is not disabled (fan-out of SETs). */
  activeStreams(): Promise<StreamRecord[]>;
  updateStream(s: StreamRecord): Promise<void>;
  deleteStream(streamId: string): Promise<boolean>;

  /** Records a subject as added (`included`) or removed from a stream. */
  setSubject(streamId: string, key: string, subject: unknown, included: boolean): Promise<void>;
  /** The include/exclude decision recorded for any of the keys: true, false, or undefined (none recorded). */
  subjectDecision(streamId: string, keys: readonly string[]): Promise<boolean | undefined>;
  /** Every subject added to or removed from a stream (for SSF 1.0 subject matching of complex subjects). */
  streamSubjects(streamId: string): Promise<{ readonly subject: unknown; readonly included: boolean }[]>;

  /** Adds SETs to the outbox (a `(streamId, jti)` already there is ignored: replays are idempotent). */
  enqueue(entries: readonly OutboxEntry[]): Promise<number>;
  /**
   * Claims push SETs that are due on enabled push streams: marks them in flight until `now + leaseMs`
   * so no other instance delivers them meanwhile, and returns them oldest first.
   */
  claimPush(now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]>;
  delivered(streamId: string, jti: string): Promise<void>;
  retryLater(streamId: string, jti: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  failed(streamId: string, jti: string, now: number, error: string): Promise<void>;
  /** RFC 8936: SETs not delivered, or delivered more than `ackTimeoutMs` ago and not acknowledged. */
  poll(streamId: string, max: number, now: number, ackTimeoutMs: number): Promise<PollResult>;
  acknowledge(streamId: string, jtis: readonly string[]): Promise<number>;
  /** Drops the queued SETs of a stream (disabled, deleted). */
  dropOutbox(streamId: string): Promise<void>;
  /** Counts per stream for the status endpoint. */
  outboxCounts(streamId: string): Promise<{ pending: number; failed: number }>;

  /** Receiver: whether a SET id was already received. */
  hasReceived(iss: string, jti: string): Promise<boolean>;
  /** Receiver: records a received SET id; false when it was already received. */
  rememberReceived(iss: string, jti: string, now: number): Promise<boolean>;
  /** Receiver: forgets ids received before `before` (ms). */
  forgetReceived(before: number): Promise<void>;
  close(): Promise<void>;
}
