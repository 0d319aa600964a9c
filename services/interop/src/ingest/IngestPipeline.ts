import { createMapper, JsonRecordSplitter, type AdapterInput, type HumanActivity, type Mapper, type RecordAdapter, type RecordLayout, type ReplayDetector, type SkipNote, type SourcedResult, type SplitOutput } from '@livescope/adapters';
import { isControlEventType, type DeadLetterReason, type LivescopeEventInput } from '@livescope/contracts';
import type { IngestSink, RecordNote, RejectedRecord } from './IngestSink.js';

export interface IngestStats {
  records: number;
  events: number;
  deadLetters: number;
  skipped: number;
  /** Control events not published: no producer key, or one not allowed to send their type. */
  withheld: number;
  /** `telemetry.token-replay-detected` raised by the replay detector. */
  replays: number;
  /** Records of people (skipped, or kept with `humans: keep`). */
  humans: number;
  /** Dead letters, skips (by code) and withheld events (by type), counted. */
  readonly reasons: Record<string, number>;
}

/** Replaces an input before mapping (e.g. a verified JWT), or rejects it. */
export type InputTransform = (input: AdapterInput) => Promise<AdapterInput | { readonly reject: { readonly reason: DeadLetterReason; readonly message: string } }>;

export interface IngestOptions {
  readonly layout?: RecordLayout;
  /** Largest record in characters. Default 1 MiB. */
  readonly maxRecordChars?: number;
  /** Events per Kafka write. Default 500. */
  readonly batchEvents?: number;
  /** Receive time of records without a timestamp. Default: the wall clock. */
  readonly now?: () => string;
  readonly transform?: InputTransform;
  /**
   * Whether the configured producer key may send a control event type (see `controlEventTypes`).
   * Default: none — without a producer key, control events are never published: they are withheld,
   * counted and reported ("needs a producer key allowed to send <type>"), never dead-lettered.
   */
  readonly controlAllowed?: (eventType: string) => boolean;
  /** Raises token-replay from the network facts of credential uses. Default: none. */
  readonly detector?: ReplayDetector;
  /** Records of people kept by the adapter (`humans: keep`). */
  readonly onHuman?: (activity: HumanActivity) => void;
  /** Called for every record's outcome (metrics). */
  readonly onRecord?: (note: RecordNote) => void;
  /** Called after each flush, and at the end. */
  readonly onProgress?: (stats: IngestStats) => void;
}

export const emptyStats = (): IngestStats => ({ records: 0, events: 0, deadLetters: 0, skipped: 0, withheld: 0, replays: 0, humans: 0, reasons: {} });

/** The reason of withheld control events, as counted and shown. */
export const needsProducerKey = (types: readonly string[]): string => `needs a producer key allowed to send ${[...new Set(types)].sort().join(', ')}`;

const ANNOUNCEMENT = /\/identity-[0-9a-f]{16}$/;

/**
 * Streams text through an adapter to a sink: splits records, maps them (pure), and writes events in
 * order, in batches, waiting for each write (so a slow broker slows the reader: memory stays bounded).
 * Every record ends as events, a counted skip with its reason, or a dead letter with the original
 * text; control events the producer key may not send are withheld and counted; nothing stops the run.
 */
export class IngestPipeline {
  private readonly splitter: JsonRecordSplitter;
  private readonly mapper: Mapper;
  private readonly batch: number;
  private readonly controlAllowed: (type: string) => boolean;
  private pendingEvents: LivescopeEventInput[] = [];
  private pendingRejects: RejectedRecord[] = [];
  private pendingNotes: RecordNote[] = [];
  readonly stats: IngestStats = emptyStats();

  constructor(
    adapter: RecordAdapter<unknown>,
    private readonly sink: IngestSink,
    private readonly options: IngestOptions = {},
  ) {
    this.splitter = new JsonRecordSplitter({ ...(options.layout ? { layout: options.layout } : {}), ...(options.maxRecordChars ? { maxRecordChars: options.maxRecordChars } : {}) });
    const now = options.now ?? (() => new Date().toISOString());
    this.mapper = createMapper(adapter, () => ({ receivedAt: now() }));
    this.batch = options.batchEvents ?? 500;
    this.controlAllowed = options.controlAllowed ?? (() => false);
  }

  async push(text: string): Promise<void> {
    for (const input of this.splitter.push(text)) await this.record(input);
    if (this.pendingEvents.length >= this.batch) await this.flush();
  }

  /** Writes what is buffered (webhook mode: at the end of each request). */
  async flush(): Promise<void> {
    const events = this.pendingEvents;
    const rejects = this.pendingRejects;
    const notes = this.pendingNotes;
    this.pendingEvents = [];
    this.pendingRejects = [];
    this.pendingNotes = [];
    if (notes.length) await this.sink.notes?.(notes);
    for (let i = 0; i < events.length; i += this.batch) await this.sink.publish(events.slice(i, i + this.batch));
    if (rejects.length) await this.sink.deadLetter(rejects);
    this.options.onProgress?.(this.stats);
  }

  /** End of input: the splitter's and the adapter's leftovers, then a final flush. */
  async end(): Promise<IngestStats> {
    for (const input of this.splitter.end()) await this.record(input);
    this.take(this.mapper.end());
    await this.flush();
    return this.stats;
  }

  async consume(chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>): Promise<IngestStats> {
    for await (const chunk of chunks) await this.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    return this.end();
  }

  private async record(input: SplitOutput): Promise<void> {
    this.stats.records++;
    let next: SplitOutput = input;
    if (this.options.transform && !('oversized' in input)) {
      const t = await this.options.transform(input);
      if ('reject' in t) {
        this.reject(t.reject.reason, t.reject.message, input.raw, this.stats.records);
        return;
      }
      next = t;
    }
    this.take(this.mapper.push(next));
    if (this.pendingEvents.length >= this.batch) await this.flush();
  }

  private take(results: readonly SourcedResult[]): void {
    for (const r of results) {
      const ordinal = this.stats.records;
      if (r.deadLetter) {
        this.reject(r.deadLetter.reason, r.deadLetter.message, r.raw, ordinal);
        continue;
      }
      if (r.human) {
        this.stats.humans++;
        this.options.onHuman?.(r.human);
      } else if (r.skipped?.code === 'human') this.stats.humans++;
      const detections = this.options.detector ? (r.uses ?? []).flatMap((u) => this.options.detector!.observe(u)) : [];
      this.stats.replays += detections.length;
      const mapped = [...r.events, ...detections];
      const withheld = mapped.filter((e) => isControlEventType(e.type) && !this.controlAllowed(e.type));
      let kept = mapped.filter((e) => !withheld.includes(e));
      if (withheld.length) {
        // An announcement is only worth sending with an event about the identity it announces.
        const subjectOf = (e: LivescopeEventInput): string | undefined => ('subject' in e ? e.subject : undefined);
        kept = kept.filter((e) => !(e.type === 'identity.created' && ANNOUNCEMENT.test(e.id) && !kept.some((o) => o !== e && subjectOf(o) === subjectOf(e))));
        this.stats.withheld += withheld.length;
        for (const e of withheld) this.count(`withheld: ${needsProducerKey([e.type])}`);
      }
      const withheldTypes = [...new Set(withheld.map((e) => e.type))];
      if (kept.length) {
        this.pendingEvents.push(...kept);
        this.stats.events += kept.length;
        this.note({ ordinal, outcome: 'mapped', events: kept.length, ...(withheldTypes.length ? { withheld: withheldTypes, reason: needsProducerKey(withheldTypes) } : {}), ...(detections.length ? { replays: detections.length } : {}) });
        continue;
      }
      this.stats.skipped++;
      const skip: SkipNote = withheld.length ? { code: 'needs-producer-key', field: 'type', message: needsProducerKey(withheldTypes) } : (r.skipped ?? { code: 'no-effect', field: '(record)', message: 'nothing to map' });
      this.count(`skipped: ${skip.code}`);
      this.note({ ordinal, outcome: 'skipped', events: 0, skip, ...(withheldTypes.length ? { withheld: withheldTypes, reason: skip.message } : { reason: skip.message }) });
    }
  }

  private reject(reason: DeadLetterReason, message: string, raw: string, ordinal: number): void {
    this.stats.deadLetters++;
    this.count(`dead-letter: ${reason}`);
    this.pendingRejects.push({ reason, message, raw, ordinal });
    this.note({ ordinal, outcome: 'dead-letter', events: 0, deadLetter: reason, reason: message });
  }

  private note(n: RecordNote): void {
    this.pendingNotes.push(n);
    this.options.onRecord?.(n);
  }

  private count(key: string): void {
    this.stats.reasons[key] = (this.stats.reasons[key] ?? 0) + 1;
  }
}
