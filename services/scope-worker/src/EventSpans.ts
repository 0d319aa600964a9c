import type { LivescopeEvent } from '@livescope/contracts';
import type { EngineOutput } from '@livescope/scope-engine';
import { kafkaSpanAttributes, livescopeTracer, MessagingAttributes as M, SpanAttributes as A, traceHeadersOf } from '@livescope/transport';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import type { CommandOutput, CommandTraces } from './OutputEncoder.js';

const tracer = livescopeTracer('@livescope/scope-worker');

/** Where one event's outputs lie in a batch's EngineOutput (the engine only appends). */
interface Traced {
  readonly span: Span;
  readonly from: Readonly<Record<CommandOutput, number>>;
  to: Record<CommandOutput, number>;
  publish?: Span;
  headers?: Readonly<Record<string, string>>;
}

const KINDS: readonly CommandOutput[] = ['changes', 'snapshots', 'revocations'];
const marks = (out: EngineOutput): Record<CommandOutput, number> => ({ changes: out.changes.length, snapshots: out.snapshots.length, revocations: out.revocations.length });

/**
 * The spans of one batch of a partition, for the events that carry a trace context (only those:
 * a batch without one never builds this). Per traced event: one `process` span (consumer, child
 * of the control plane's producer span), from before the engine applies it until the batch is
 * committed, whatever the number of identities it changes (an org-wide order changes thousands:
 * still one span, the count as `livescope.identities_changed`); and, when it produced commands,
 * one `publish` span (producer, child of the `process` span), whose context every command of that
 * event carries in its headers (see OutputEncoder).
 */
export class EventSpans implements CommandTraces {
  /** Traced events per batch beyond which events are applied without a span (a hostile producer may put a header on each). */
  static readonly MAX_PER_BATCH = 1024;
  private readonly traced: Traced[] = [];
  /**
   * First traced event of the outputs now held: a batch produces its outputs in parts while it is
   * applied (PartitionRunner), and the output lists start again from 0 after each part.
   */
  private first = 0;

  constructor(
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /** Starts the span of applying `event` (call before the engine handles it), or undefined past the bound. */
  begin(parent: Context, m: KafkaMessage, event: LivescopeEvent, out: EngineOutput): Traced | undefined {
    if (this.traced.length >= EventSpans.MAX_PER_BATCH) return undefined;
    const span = tracer.startSpan(
      `process ${this.topic}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...kafkaSpanAttributes('process', this.topic, this.partition),
          [M.offset]: Number(m.offset),
          [A.eventId]: event.id,
          [A.eventType]: event.type,
        },
      },
      parent,
    );
    const from = marks(out);
    const t: Traced = { span, from, to: { ...from } };
    this.traced.push(t);
    return t;
  }

  /** Records what the engine did with the event: its outcome and the commands it produced. */
  applied(t: Traced, outcome: string, out: EngineOutput): void {
    t.to = marks(out);
    const changes = t.to.changes - t.from.changes;
    t.span.setAttributes({
      [A.outcome]: outcome,
      [A.identitiesChanged]: changes,
      [A.commands]: changes + (t.to.snapshots - t.from.snapshots) + (t.to.revocations - t.from.revocations),
    });
  }

  /** Starts the `publish` span of each traced event that produced commands (before they are encoded). */
  beginPublish(): void {
    for (let i = this.first; i < this.traced.length; i++) {
      const t = this.traced[i]!;
      const n = KINDS.reduce((sum, k) => sum + t.to[k] - t.from[k], 0);
      if (n === 0) continue;
      t.publish = tracer.startSpan(
        'publish commands',
        { kind: SpanKind.PRODUCER, attributes: { ...kafkaSpanAttributes('publish'), [M.batchCount]: n } },
        trace.setSpan(ROOT_CONTEXT, t.span),
      );
      t.headers = traceHeadersOf(trace.setSpan(ROOT_CONTEXT, t.publish));
    }
  }

  /** The trace headers of the command at `index` of `out[kind]`: those of the event that produced it. */
  headersFor(kind: CommandOutput, index: number): Readonly<Record<string, string>> | undefined {
    // Ranges are ascending and disjoint (outputs are appended event after event): binary search.
    let lo = this.first;
    let hi = this.traced.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = this.traced[mid]!;
      if (index < t.from[kind]) hi = mid - 1;
      else if (index >= t.to[kind]) lo = mid + 1;
      else return t.headers;
    }
    return undefined;
  }

  /**
   * The outputs held so far were produced and the lists cleared: the events traced until now have
   * no more commands to mark, and the next ranges start from 0.
   */
  rebase(): void {
    this.first = this.traced.length;
  }

  /** Ends the `publish` spans (the commands are acknowledged by the broker). */
  endPublish(): void {
    for (const t of this.traced) t.publish?.end();
  }

  /** Ends every span: after the commit, or with the error that failed the batch. */
  end(error?: unknown): void {
    for (const t of this.traced) {
      if (error !== undefined) {
        const status = { code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' };
        if (t.publish?.isRecording()) t.publish.setStatus(status).end();
        t.span.setStatus(status);
      }
      t.span.end();
    }
  }
}
