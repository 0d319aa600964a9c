import type { LivescopeEvent } from '@livescope/contracts';
import { kafkaSpanAttributes, livescopeTracer, MessagingAttributes as M, SpanAttributes as A, traceHeadersOf, type EventPublisher } from '@livescope/transport';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';
import { ControlPlaneError } from '../ControlPlaneError.js';

const tracer = livescopeTracer('@livescope/control-plane');

/** Partition → offset of each copy of a published event. */
export type PublishedOffsets = Record<string, string>;

/**
 * Publishes the control plane's events through the EventPublisher's encoding (wire format;
 * broadcast events copied to every partition, identity events keyed by identity) with acks=all,
 * and returns where each copy landed. The idempotent producer retries without bound, so the wait
 * is bounded here: past `timeoutMs` the caller is told the outcome is unconfirmed, and `late`
 * receives the offsets if the write completes afterwards.
 */
export class EventSender {
  constructor(
    private readonly producer: Producer,
    private readonly publisher: EventPublisher,
    private readonly timeoutMs: number,
  ) {}

  get partitions(): number {
    return this.publisher.partitions;
  }

  async send(event: LivescopeEvent, nowMs: number, late: (offsets: PublishedOffsets) => void): Promise<PublishedOffsets> {
    const topic = this.publisher.topic;
    // A producer span, child of the request's; its context travels in the messages' headers to the workers.
    const span = tracer.startSpan(`publish ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: { ...kafkaSpanAttributes('publish', topic), [A.eventId]: event.id, [A.eventType]: event.type },
    });
    const messages = this.publisher.messages([event], nowMs, traceHeadersOf(trace.setSpan(context.active(), span)));
    if (messages.length > 1) span.setAttribute(M.batchCount, messages.length);
    const sending = this.producer.send({ topic, acks: -1, messages }).then(
      (meta) => {
        const out: PublishedOffsets = {};
        for (const m of meta) out[String(m.partition)] = m.baseOffset ?? m.offset ?? '-1';
        span.end();
        return out;
      },
      (e: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.name : 'error' });
        span.end();
        throw e;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.timeoutMs)));
    try {
      const first = await Promise.race([sending, timeout]);
      if (first !== 'timeout') return first;
    } finally {
      clearTimeout(timer);
    }
    sending.then(late, () => undefined);
    const message = `Kafka did not confirm event ${event.id} within ${this.timeoutMs} ms; it may still be written`;
    throw new ControlPlaneError('UNAVAILABLE', message, { component: 'kafka', publicMessage: message, context: { eventId: event.id, published: 'unknown' } });
  }
}
