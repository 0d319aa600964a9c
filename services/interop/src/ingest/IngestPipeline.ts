import { createMapper, JsonRecordSplitter, type AdapterInput, type Mapper, type RecordAdapter, type RecordLayout, type SourcedResult, type SplitOutput } from '@livescope/adapters';
import type { DeadLetterReason, LivescopeEventInput } from '@livescope/contracts';
import type { IngestSink, RejectedRecord } from './IngestSink.js';

export interface IngestStats {
  records: number;
  events: number;
  deadLetters: number;
  skipped: number;
  /** Dead letters and skips by reason (skip notes are grouped by their first words). */
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
  /** Called after each flush, and at the end. */
  readonly onProgress?: (stats: IngestStats) => void;
}

export const emptyStats = (): IngestStats => ({ records: 0, events: 0, deadLetters: 0, skipped: 0, reasons: {} });

/**
 * Streams text through an adapter to a sink: splits records, maps them (pure), and writes events in
 * order, in batches, waiting for each write (so a slow broker slows the reader: memory stays bounded).
 * Malformed or unsupported records become dead letters with their original text; nothing stops the run.
 */
export class IngestPipeline {
  private readonly splitter: JsonRecordSplitter;
  private readonly mapper: Mapper;
  private readonly batch: number;
  private pendingEvents: LivescopeEventInput[] = [];
  private pendingRejects: RejectedRecord[] = [];
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
  }

  async push(text: string): Promise<void> {
    for (const input of this.splitter.push(text)) await this.record(input);
    if (this.pendingEvents.length >= this.batch) await this.flush();
  }

  /** Writes what is buffered (webhook mode: at the end of each request). */
  async flush(): Promise<void> {
    const events = this.pendingEvents;
    const rejects = this.pendingRejects;
    this.pendingEvents = [];
    this.pendingRejects = [];
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
      if (r.deadLetter) this.reject(r.deadLetter.reason, r.deadLetter.message, r.raw, this.stats.records);
      else if (r.events.length) {
        this.pendingEvents.push(...r.events);
        this.stats.events += r.events.length;
      } else {
        this.stats.skipped++;
        this.count(`skipped: ${(r.skipped ?? 'nothing to map').split(/[:;(]/)[0]!.trim()}`);
      }
    }
  }

  private reject(reason: DeadLetterReason, message: string, raw: string, ordinal: number): void {
    this.stats.deadLetters++;
    this.count(`dead-letter: ${reason}`);
    this.pendingRejects.push({ reason, message, raw, ordinal });
  }

  private count(key: string): void {
    this.stats.reasons[key] = (this.stats.reasons[key] ?? 0) + 1;
  }
}
