/**
 * What the heartbeats of one partition of the events topic say, kept so that `authorize()` decides
 * staleness with two number comparisons: the instant of the latest heartbeat (silence), and the
 * instant the partition last made progress — its applied offset advanced, or caught up with the log
 * end offset (a stuck partition keeps sending heartbeats, so liveness means progress). Times are the
 * heartbeats' own `at` (the worker's clock), as the silence rule always used.
 */
export interface PartitionLiveness {
  /** `at` of the latest heartbeat, epoch ms. */
  heartbeatAt: number;
  /** `at` of the latest heartbeat that showed progress (or carried no log end offset), epoch ms. */
  progressAt: number;
  /** `nextOffset` of the latest heartbeat; undefined for heartbeats of older workers. */
  nextOffset: bigint | undefined;
  /** `logEndOffset` of the latest heartbeat; undefined for heartbeats of older workers. */
  logEndOffset: bigint | undefined;
  /** Input was waiting (log end ahead of the applied offset) at the latest heartbeat. */
  waiting: boolean;
}

/**
 * Folds one heartbeat into a partition's liveness; returns false when it is older than the latest
 * one (a late heartbeat of a worker that lost the partition), which changes nothing.
 *
 * Progress: a heartbeat without `logEndOffset` (older workers) counts as progress, so only silence
 * makes such a partition stale, as before. Otherwise the partition progressed when `nextOffset`
 * reached the log end or moved since the previous heartbeat; the first heartbeat seen counts as
 * progress (an enforcement point that starts while a partition is stuck gives it `maxStalenessMs`).
 */
export function foldHeartbeat(current: PartitionLiveness | undefined, atMs: number, nextOffset: bigint | undefined, logEndOffset: bigint | undefined): PartitionLiveness | false {
  if (current !== undefined && atMs < current.heartbeatAt) return false;
  const known = nextOffset !== undefined && logEndOffset !== undefined;
  const waiting = known && logEndOffset > nextOffset;
  const progressed = !known || !waiting || current === undefined || current.nextOffset === undefined || nextOffset !== current.nextOffset;
  if (current === undefined) return { heartbeatAt: atMs, progressAt: atMs, nextOffset, logEndOffset, waiting };
  current.heartbeatAt = atMs;
  if (progressed) current.progressAt = atMs;
  current.nextOffset = nextOffset;
  current.logEndOffset = logEndOffset;
  current.waiting = waiting;
  return current;
}
