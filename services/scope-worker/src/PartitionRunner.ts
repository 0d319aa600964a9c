import { createHash } from 'node:crypto';
import {
  ContractError,
  DEAD_LETTER_VALUE_BYTES,
  decodeEvent,
  isBroadcastEvent,
  MAGIC_BYTE,
  WIRE_HEADER_BYTES,
  type DeadLetter,
  type DeadLetterReason,
  type LivescopeEvent,
} from '@livescope/contracts';
import { classify, retry } from '@livescope/errors';
import { clearOutput, emptyOutput, outputSize, encodeGlobals, encodeIdentity, encodePolicies, decodeGlobals, decodePolicies, identitiesRead, type EngineOutput, type ProducerVerdict, type ScopeEngine } from '@livescope/scope-engine';
import { StoreError, type BatchCommit, type ChainTail, type Store } from '@livescope/store';
import { BROADCAST_KEY, traceContextOf, type Logger, type ProducerKeyring, type SchemaRegistryClient } from '@livescope/transport';
import type { KafkaMessage, Producer, TopicMessages } from 'kafkajs';
import { EventSpans } from './EventSpans.js';
import type { OutputEncoder } from './OutputEncoder.js';
import { Mutex } from './Mutex.js';
import type { LoadQueue } from './LoadQueue.js';
import { PartitionLoadCancelled, PartitionLoader } from './PartitionLoader.js';
import type { WorkerMetrics } from './WorkerMetrics.js';

/**
 * Hooks that only test entry points install (src/testing/, excluded from the build): they make a
 * partition fail in ways the real dependencies cannot be made to fail on demand.
 */
export interface PartitionFaults {
  /** Called before every commit of a partition; a throw counts as the commit's failure. */
  beforeCommit?(partition: number, commit: BatchCommit): void;
  /** Awaited before a partition's background load starts (a batch that needs the whole partition starts it anyway). */
  beforeBackgroundLoad?(partition: number): Promise<void>;
}

/**
 * `background`: a partition processes as soon as its record (offset, org-wide state, policies) and
 * its due timers are loaded; identities follow on demand and in a background bulk load
 * (PartitionLoader). `eager`: every identity is loaded before the partition processes anything.
 */
export type PartitionLoadMode = 'background' | 'eager';

export interface PartitionContext {
  readonly topic: string;
  readonly eventsSubject: string;
  readonly workerId: string;
  readonly maxMessageBytes: number;
  readonly store: Store;
  readonly producer: Producer;
  readonly registry: SchemaRegistryClient;
  readonly encoder: OutputEncoder;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly keyring: ProducerKeyring;
  readonly createEngine: () => ScopeEngine;
  readonly isShuttingDown: () => boolean;
  /** Default `background`. */
  readonly partitionLoad?: PartitionLoadMode;
  /** The worker's bulk loads, one at a time (default: each runs at once). */
  readonly loadQueue?: LoadQueue;
  readonly faults?: PartitionFaults;
}

type AuditRow = BatchCommit['audit'][number];

/** Broadcast events that carry an actor are audited once, on partition 0 (every partition sees them). */
const AUDITED_BROADCASTS = new Set(['order.issued', 'order.lifted', 'policies.published', 'org.release-window', 'org.release-window-cancelled', 'org.incident-mode', 'secret.leaked']);
/** Longest reason text kept in a dead letter. */
const MAX_DEAD_LETTER_MESSAGE = 2000;
/**
 * Outputs of a batch that are produced while the rest of the batch is applied: once this many are
 * waiting, they go out (one produce request in flight at a time) instead of after the whole batch.
 */
export const STREAM_OUTPUTS = 256;

/**
 * One partition of the events topic owned by this worker: its engine, its committed position and
 * audit tail. Every batch runs under the partition's mutex: decode → apply → produce outputs
 * (acks=all) → commit states, audit and offset in PostgreSQL (one fenced statement).
 * Outputs are produced BEFORE the commit: a crash in between replays the batch, which produces the
 * same commands (same versions), and enforcers ignore what they already hold.
 *
 * Failures are classified (see @livescope/errors): a message that does not decode or that the
 * engine refuses is dead-lettered here and costs only itself; transient failures of the broker,
 * the registry or PostgreSQL are retried in place (order kept); anything else leaves `process`
 * with its classification for the worker to act on (poison of the batch: isolate the culprit;
 * reassigned: drop the partition; fatal: stop).
 */
export class PartitionRunner {
  readonly lock = new Mutex();
  dropped = false;
  private readonly log: Logger;
  /** Log end offset last seen for the partition (heartbeats and stuck detection). */
  logEndOffset = -1n;
  /** The produce request in flight, if any: the next is sent once it is acknowledged (order per topic). */
  private inflight: Promise<void> | undefined;

  private constructor(
    private readonly ctx: PartitionContext,
    readonly partition: number,
    readonly engine: ScopeEngine,
    /** What PostgreSQL holds (the fence for the next commit); -1 = never committed. */
    private dbOffset: bigint,
    /** Next offset to process. */
    public position: bigint,
    private auditTail: ChainTail,
    /** Brings the partition's identities into `engine` (on demand, due timers, bulk). */
    readonly loader: PartitionLoader,
  ) {
    this.log = ctx.logger.child({ partition });
  }

  /**
   * Loads a partition from PostgreSQL: its record (offset, org-wide state, policies, audit tail) and
   * the identities whose timers are due soon; in `eager` mode also every identity (bulk,
   * keyset-paginated), else the caller starts `loadInBackground` and batches load what they read.
   */
  static async load(ctx: PartitionContext, partition: number, lowWatermark: bigint): Promise<PartitionRunner> {
    const started = performance.now();
    const rec = await ctx.store.loadPartition(ctx.topic, partition);
    const engine = ctx.createEngine();
    engine.load({ identities: [], globals: rec.globals ? decodeGlobals(rec.globals) : undefined, policies: rec.policies ? decodePolicies(rec.policies) : undefined });
    let position = rec.nextOffset >= 0n ? rec.nextOffset : lowWatermark;
    if (position < lowWatermark) {
      ctx.logger.error({ partition, position: position.toString(), lowWatermark: lowWatermark.toString() }, 'events were deleted by retention before they were applied; continuing from the earliest offset available');
      position = lowWatermark;
    }
    const loader: PartitionLoader = new PartitionLoader({
      store: ctx.store,
      engine,
      partition,
      logger: ctx.logger,
      // Called only once the runner below exists (the loader reads nothing before it is returned).
      isDropped: () => runner.dropped,
      isStopping: () => ctx.isShuttingDown(),
      ...(ctx.loadQueue ? { schedule: (load: () => Promise<void>, urgent: boolean) => ctx.loadQueue!.run(load, urgent) } : {}),
      onComplete: (identities) => {
        // From the assignment, as the eager load always measured it.
        const seconds = (performance.now() - started) / 1000;
        ctx.metrics.partitionLoadSeconds.observe(seconds);
        ctx.metrics.identities.set({ partition: String(partition) }, engine.size);
        ctx.logger.info({ partition, identities, position: position.toString(), seconds: Number(seconds.toFixed(3)) }, 'partition loaded');
      },
    });
    const runner: PartitionRunner = new PartitionRunner(ctx, partition, engine, rec.nextOffset, position, rec.auditTail, loader);
    await loader.loadTimers(Date.now());
    if (ctx.partitionLoad === 'eager') {
      await loader.loadAll(true);
      engine.drainDirty();
    } else {
      const seconds = (performance.now() - started) / 1000;
      ctx.logger.info({ partition, identities: engine.size, position: position.toString(), seconds: Number(seconds.toFixed(3)) }, 'partition processing; identities load in the background');
    }
    return runner;
  }

  /**
   * The bulk load of a `background` partition, queued behind the worker's other loads (a batch that
   * needs the whole partition moves it ahead). Resolves when every identity is held, or the partition
   * was dropped or the worker stopped.
   */
  async loadInBackground(): Promise<void> {
    if (this.loader.complete || this.dropped || this.ctx.isShuttingDown()) return;
    await this.ctx.faults?.beforeBackgroundLoad?.(this.partition);
    if (this.loader.state === 'cancelled') return;
    await this.loader.loadAll(false).catch((e: unknown) => {
      // Dropped or stopping: nothing to report.
      if (!PartitionLoadCancelled.is(e)) throw e;
    });
  }

  /** Earliest instant a timer may be due: the engine's next wake-up, or while identities are still loading, the end of the stretch of timers held. */
  nextWakeAt(): number | undefined {
    const due = this.engine.nextWakeAt();
    const held = this.loader.timersHeldUntil;
    if (held === undefined) return due;
    return due === undefined ? held + 1 : Math.min(due, held + 1);
  }

  /**
   * While the partition is partial: loads what the batch reads before it is applied — the whole
   * partition for a broadcast, else the identities its events read — and the timers due by `nowMs`.
   * A message that does not decode here is dead-lettered when it is applied; it reads nothing.
   */
  private async prepare(messages: readonly KafkaMessage[], nowMs: number): Promise<void> {
    if (this.loader.complete) return;
    let all = false;
    const ids = new Set<string>();
    for (const m of messages) {
      let event: LivescopeEvent;
      try {
        event = decodeEvent(m.value, { maxBytes: this.ctx.maxMessageBytes, isKnownSchemaId: (id) => this.ctx.registry.isKnown(this.ctx.eventsSubject, id) });
      } catch {
        continue;
      }
      if (isBroadcastEvent(event)) {
        all = true;
        break;
      }
      for (const id of identitiesRead(event)) ids.add(id);
    }
    await this.loader.prepare({ all, ids }, nowMs);
  }

  /** Processes messages at or after `position` (earlier ones were applied already). */
  async process(messages: readonly KafkaMessage[], timerNowMs: number): Promise<void> {
    // A batch is in offset order: only its head can lie below the position.
    let from = 0;
    while (from < messages.length && BigInt(messages[from]!.offset) < this.position) from++;
    const fresh = from === 0 ? messages : messages.slice(from);
    if (fresh.length === 0) return;
    await this.resolveUnknownSchemaIds(fresh);
    await this.prepare(fresh, timerNowMs);
    const out = emptyOutput();
    const deadLetters: DeadLetter[] = [];
    const audit: AuditRow[] = [];
    const t0 = performance.now();
    // Counted per batch: a labelled counter costs a label lookup per increment, and most events are no-ops.
    const consumed = new Map<string, { type: string; outcome: string; n: number }>();
    // Built only when an event carries a trace context (and tracing is on): nothing is allocated otherwise.
    let spans: EventSpans | undefined;
    try {
      for (const m of fresh) {
        const decoded = this.decode(m, deadLetters);
        if (!decoded) continue;
        const { event, producer } = decoded;
        const parent = traceContextOf(m.headers);
        const span = parent ? (spans ??= new EventSpans(this.ctx.topic, this.partition)).begin(parent, m, event, out) : undefined;
        // The broker's append time (LogAppendTime on the events topic): no producer chooses it.
        const result = this.engine.handle(event, { timestampMs: Number(m.timestamp), producer }, out);
        if (span) spans!.applied(span, result.status, out);
        const counted = consumed.get(event.type + result.status);
        if (counted) counted.n++;
        else consumed.set(event.type + result.status, { type: event.type, outcome: result.status, n: 1 });
        if (result.status === 'rejected') deadLetters.push(this.deadLetter(m, result.reason, result.message, event));
        else if (result.status === 'applied' && this.partition === 0 && isBroadcastEvent(event) && AUDITED_BROADCASTS.has(event.type)) audit.push(broadcastAudit(event, producer));
        // The outputs of the events applied so far are final (each event is a transaction): produce
        // them while the rest of the batch is applied. A crash before the commit replays the batch,
        // which produces the same commands again.
        if (outputSize(out) >= STREAM_OUTPUTS) {
          spans?.beginPublish();
          await this.produce(out, [], audit, spans);
          clearOutput(out);
          spans?.rebase();
        }
      }
      for (const c of consumed.values()) this.ctx.metrics.eventsConsumed.inc({ type: c.type, outcome: c.outcome }, c.n);
      // Timers due by now fire in the same commit, each at its own instant.
      this.ctx.metrics.timersFired.inc(this.engine.tick(timerNowMs, out));
      this.reportTimerFailures();
      this.ctx.metrics.recomputeSeconds.observe((performance.now() - t0) / 1000);
      const last = BigInt(fresh[fresh.length - 1]!.offset);
      await this.flush(out, deadLetters, audit, last + 1n, spans);
    } catch (e) {
      spans?.end(e);
      throw e;
    }
    spans?.end();
  }

  /**
   * Dead-letters one message without applying it and moves past it: the worker's answer when the
   * message made its batch fail after the engine had accepted it (an output the broker refused for
   * size, a value PostgreSQL refused). The partition must have been reloaded first, so that the
   * engine holds the state from before the message.
   */
  async skip(m: KafkaMessage, reason: DeadLetterReason, message: string): Promise<void> {
    const offset = BigInt(m.offset);
    if (offset < this.position) return;
    await this.flush(emptyOutput(), [this.deadLetter(m, reason, message, undefined)], [], offset + 1n);
  }

  /** Fires due timers with no new input and commits their effects at the current position. */
  async tick(nowMs: number): Promise<void> {
    await this.loader.loadTimers(nowMs);
    const out = emptyOutput();
    const fired = this.engine.tick(nowMs, out);
    this.reportTimerFailures();
    if (fired === 0) return;
    this.ctx.metrics.timersFired.inc(fired);
    await this.flush(out, [], [], this.position);
    clearOutput(out);
  }

  private reportTimerFailures(): void {
    for (const f of this.engine.drainTimerFailures()) {
      this.ctx.metrics.timerFailures.inc();
      this.log.error({ identityId: f.identityId, at: new Date(f.at).toISOString(), reason: f.message }, 'a scope timer failed; the identity keeps its state until its next event');
    }
  }

  private decode(m: KafkaMessage, deadLetters: DeadLetter[]): { event: LivescopeEvent; producer: ProducerVerdict } | undefined {
    let event: LivescopeEvent | undefined;
    try {
      event = decodeEvent(m.value, { maxBytes: this.ctx.maxMessageBytes, isKnownSchemaId: (id) => this.ctx.registry.isKnown(this.ctx.eventsSubject, id) });
      const key = m.key?.toString();
      if (!isBroadcastEvent(event)) {
        if (key === undefined || key.length === 0) throw new ContractError('missing-key', `identity event ${event.id} has no message key; it must be keyed by identity id ${event.subject}`);
        if (key !== event.subject) throw new ContractError('key-mismatch', `message key ${key.slice(0, 256)} does not match the event subject ${event.subject}`);
      } else if (key !== undefined && key !== BROADCAST_KEY) {
        throw new ContractError('key-mismatch', `broadcast event ${event.id} must be keyed ${BROADCAST_KEY}, not ${key.slice(0, 256)}`);
      }
      const producer = this.ctx.keyring.check(this.ctx.topic, key ?? null, m.value!, m.headers, event.type);
      return { event, producer };
    } catch (e) {
      // Decoding is pure: anything it throws is about these bytes. A defect in the decoder must not
      // stop the partition either; it is dead-lettered with its class name for the operator.
      const reason: DeadLetterReason = ContractError.is(e) ? e.code : 'unprocessable';
      const message = ContractError.is(e) ? e.message : `decoding failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      deadLetters.push(this.deadLetter(m, reason, message, event));
      return undefined;
    }
  }

  private deadLetter(m: KafkaMessage, reason: DeadLetterReason, message: string, event: LivescopeEvent | undefined): DeadLetter {
    this.ctx.metrics.deadLetters.inc({ reason });
    this.log.warn({ offset: m.offset, reason, eventId: event?.id }, `dead-lettered: ${message.slice(0, 300)}`);
    const value = m.value ?? Buffer.alloc(0);
    const truncated = value.length > DEAD_LETTER_VALUE_BYTES;
    const key = m.key && m.key.length > 1024 ? m.key.subarray(0, 1024) : m.key;
    return {
      kind: 'dead-letter',
      reason,
      message: message.slice(0, MAX_DEAD_LETTER_MESSAGE),
      source: { topic: this.ctx.topic, partition: this.partition, offset: m.offset, timestamp: m.timestamp, ...(key ? { key: key.toString('base64') } : {}) },
      // A dead letter always fits the broker's limit: the original is kept up to a bound, with its length and hash.
      value: (truncated ? value.subarray(0, DEAD_LETTER_VALUE_BYTES) : value).toString('base64'),
      valueBytes: value.length,
      valueSha256: createHash('sha256').update(value).digest('hex'),
      ...(truncated ? { valueTruncated: true } : {}),
      ...(event ? { eventId: event.id, eventType: event.type } : {}),
      workerId: this.ctx.workerId,
    };
  }

  /** Messages written with a schema id this worker has not seen: ask the registry once per id. */
  private async resolveUnknownSchemaIds(messages: readonly KafkaMessage[]): Promise<void> {
    const unknown = new Set<number>();
    for (const m of messages) {
      // Not wire format (the header is 5 bytes, magic byte 0): dead-lettered by decode().
      if (m.value === null || m.value.length > this.ctx.maxMessageBytes || m.value.length < WIRE_HEADER_BYTES || m.value[0] !== MAGIC_BYTE) continue;
      // The schema id alone, without decoding the frame (no view of the payload per message).
      const schemaId = m.value.readUInt32BE(1);
      if (!this.ctx.registry.isKnown(this.ctx.eventsSubject, schemaId)) unknown.add(schemaId);
    }
    for (const id of unknown) {
      await retry(() => this.ctx.registry.refreshUnknown(this.ctx.eventsSubject, id, Date.now()), {
        shouldStop: () => this.dropped || this.ctx.isShuttingDown(),
        onRetry: (e, attempt, delayMs) => this.onRetry('registry', e, attempt, delayMs),
      });
    }
  }

  /**
   * Produces outputs as requests of at most MAX_REQUEST_BYTES, one in flight at a time and in order
   * (the broker refuses a record batch over `message.max.bytes`): each request is encoded and signed
   * while the previous one waits for its acknowledgement. Returns with the last request in flight.
   */
  private async produce(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], spans?: EventSpans): Promise<void> {
    const m = this.ctx.metrics;
    for (const c of out.changes) m.scopeSize.observe(c.permissions.length);
    try {
      for (const request of this.ctx.encoder.requests(out, deadLetters, audit, undefined, spans)) {
        for (const t of request) m.commands.inc({ kind: t.topic.replace(/^.*livescope\./, '') }, t.messages.length);
        await this.acknowledged();
        const sent = this.send(request);
        // Handled here so that a failure while the batch goes on is not an unhandled rejection; it is
        // thrown where the request is awaited.
        sent.catch(() => undefined);
        this.inflight = sent;
      }
    } catch (e) {
      // Nothing is left in flight behind a failure (the worker reloads the partition and replays).
      await this.acknowledged().catch(() => undefined);
      throw e;
    }
  }

  private async send(request: TopicMessages[]): Promise<void> {
    await retry(() => this.ctx.producer.sendBatch({ topicMessages: request, acks: -1 }), {
      shouldStop: () => this.dropped || this.ctx.isShuttingDown(),
      onRetry: (e, attempt, delayMs) => this.onRetry('kafka', e, attempt, delayMs),
    });
  }

  /** Waits for the request in flight (its failure is the caller's). */
  private async acknowledged(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  private async flush(out: EngineOutput, deadLetters: readonly DeadLetter[], audit: AuditRow[], nextOffset: bigint, spans?: EventSpans): Promise<void> {
    const m = this.ctx.metrics;
    const tp = performance.now();
    spans?.beginPublish();
    try {
      await this.produce(out, deadLetters, audit, spans);
    } finally {
      // Every output is acknowledged (acks=all) before the commit, and none is left in flight when this fails.
      await this.acknowledged();
    }
    m.batchSeconds.observe({ phase: 'produce' }, (performance.now() - tp) / 1000);
    spans?.endPublish();
    const dirty = this.engine.drainDirty();
    const commit: BatchCommit = {
      topic: this.ctx.topic,
      partition: this.partition,
      expectedOffset: this.dbOffset,
      nextOffset,
      owner: this.ctx.workerId,
      identities: dirty.identities.map((s) => ({ identityId: s.id, partition: this.partition, version: s.version, status: s.status, wakeAt: rowWakeAt(s), state: encodeIdentity(s) })),
      globals: dirty.globals ? encodeGlobals(dirty.globals) : undefined,
      policies: dirty.policies ? encodePolicies(dirty.policies) : undefined,
      audit,
    };
    if (commit.identities.length === 0 && audit.length === 0 && !commit.globals && nextOffset === this.dbOffset) return;
    const tc = performance.now();
    let attempted = false;
    this.auditTail = await retry(
      async () => {
        try {
          this.ctx.faults?.beforeCommit?.(this.partition, commit);
          return await this.ctx.store.commitBatch(commit, this.auditTail);
        } catch (e) {
          // A commit whose reply was lost may have succeeded: then the row holds our offset and owner.
          if (attempted && StoreError.is(e) && e.code === 'FENCED') {
            const rec = await this.ctx.store.loadPartition(this.ctx.topic, this.partition);
            if (rec.nextOffset === nextOffset) return rec.auditTail;
          }
          attempted = true;
          throw e;
        }
      },
      { shouldStop: () => this.dropped || this.ctx.isShuttingDown(), onRetry: (e, attempt, delayMs) => this.onRetry('postgres', e, attempt, delayMs) },
    );
    m.batchSeconds.observe({ phase: 'commit' }, (performance.now() - tc) / 1000);
    this.dbOffset = nextOffset;
    this.position = nextOffset;
    m.identities.set({ partition: String(this.partition) }, this.engine.size);
  }

  private onRetry(component: string, e: unknown, attempt: number, delayMs: number): void {
    this.ctx.metrics.transientErrors.inc({ component });
    this.log.warn({ component, attempt, delayMs, err: e, class: classify(e) }, `${component} unavailable; retrying`);
  }
}

function broadcastAudit(event: LivescopeEvent, producer: ProducerVerdict): AuditRow {
  const data = event.data as { actor?: string; publishedBy?: string; signedBy?: string };
  const claimed = data.actor ?? data.publishedBy ?? data.signedBy ?? null;
  // The actor is what the signed event says, prefixed with the producer key that vouched for it.
  const actor = producer.kind === 'trusted' ? `${producer.keyId}:${claimed ?? '-'}` : claimed;
  return { at: event.time, kind: event.type, identityId: null, version: null, actor, eventId: event.id, payload: JSON.stringify(event) };
}

/**
 * The row's `wake_at`: the identity's next timer, a pending snapshot included (LIVESCOPE_SNAPSHOT_INTERVAL_MS),
 * so that a partition loading in the background loads it in time to produce that snapshot when due
 * (PartitionLoader reads the identities waking soon first).
 */
export function rowWakeAt(s: { readonly wakeAt: number | null; readonly snapshotAt: number | null }): number | null {
  if (s.snapshotAt === null) return s.wakeAt;
  return s.wakeAt === null ? s.snapshotAt : Math.min(s.wakeAt, s.snapshotAt);
}
