import { boundedHeaderText, kafkaSpanAttributes, MAX_TRACEPARENT_CHARS, MessagingAttributes as M, SpanAttributes as A, TRACEPARENT_HEADER, traceContextOf } from '@livescope/transport';
import { SpanKind, trace, type Context } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';
import type { Outcome } from './CommandProcessor.js';

const tracer = trace.getTracer('@livescope/enforcer');

interface Group {
  readonly parent: Context | undefined;
  commands: number;
  applied: number;
  rejected: number;
}

/**
 * The spans of one fetched batch of commands at an enforcement point. Every command a worker
 * produced for one event carries the same trace context (its `publish` span), and a fan-out sends
 * thousands of them: so the enforcer starts one `process` span per distinct trace context per
 * batch, not one per command, child of that `publish` span, with the count of commands, applied
 * and rejected. At most `MAX_CONTEXTS` distinct contexts per batch are traced (a hostile writer
 * could give each message its own); a malformed one is ignored. Built only for a batch in which a
 * command carries a `traceparent`.
 */
export class BatchSpans {
  static readonly MAX_CONTEXTS = 16;
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly startTimeMs: number,
  ) {}

  /** Counts one command of the batch under its trace context. */
  add(headers: IHeaders, outcome: Outcome): void {
    const key = boundedHeaderText(headers[TRACEPARENT_HEADER], MAX_TRACEPARENT_CHARS);
    if (key === undefined) return;
    let g = this.groups.get(key);
    if (g === undefined) {
      if (this.groups.size >= BatchSpans.MAX_CONTEXTS) return;
      g = { parent: traceContextOf(headers), commands: 0, applied: 0, rejected: 0 };
      this.groups.set(key, g);
    }
    g.commands++;
    if (outcome.type === 'applied') g.applied++;
    else if (outcome.type === 'rejected') g.rejected++;
  }

  /** Records the spans (the batch is applied). */
  end(): void {
    for (const g of this.groups.values()) {
      if (g.parent === undefined) continue;
      tracer
        .startSpan(
          `process ${this.topic}`,
          {
            kind: SpanKind.CONSUMER,
            startTime: this.startTimeMs,
            attributes: {
              ...kafkaSpanAttributes('process', this.topic, this.partition),
              [M.batchCount]: g.commands,
              [A.commandsApplied]: g.applied,
              [A.commandsRejected]: g.rejected,
            },
          },
          g.parent,
        )
        .end();
    }
  }
}
