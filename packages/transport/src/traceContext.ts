import { isSpanContextValid, propagation, ROOT_CONTEXT, trace, type Attributes, type Context, type TextMapGetter, type Tracer } from '@opentelemetry/api';

/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) carried in Kafka message headers and
 * HTTP requests. The headers are unsigned metadata: no producer signature covers them (what is
 * signed is topic, key, epoch and value) and no verifier reads them, so a hostile or broken value
 * can at worst start a span under someone else's trace id; it is bounded and, when malformed,
 * ignored. These helpers use the global propagator: with tracing off (none registered) extraction
 * finds nothing and injection writes nothing.
 */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
/** Longest `traceparent` read: version 00 is 55 characters; later versions may append fields. */
export const MAX_TRACEPARENT_CHARS = 128;
/** Longest `tracestate` read (W3C asks to propagate at least 512 characters); a longer one is dropped whole. */
export const MAX_TRACESTATE_CHARS = 512;

/** A header value as kafkajs (Buffer, string, arrays of them) or node:http (string, string[]) give it. */
export type TraceHeaderValue = Buffer | string | readonly (Buffer | string)[] | undefined;
export type TraceCarrier = Readonly<Record<string, TraceHeaderValue>>;

/**
 * The text of one trace header, or undefined when absent, empty, longer than `maxChars`, or
 * repeated (a message with two `traceparent` headers has none that can be believed).
 */
export function boundedHeaderText(v: TraceHeaderValue, maxChars: number): string | undefined {
  let x: Buffer | string | undefined;
  if (Array.isArray(v)) {
    if (v.length !== 1) return undefined;
    x = v[0] as Buffer | string | undefined;
  } else x = v as Buffer | string | undefined;
  if (x === undefined || x.length === 0 || x.length > maxChars) return undefined;
  return typeof x === 'string' ? x : x.toString('latin1');
}

const boundedGetter: TextMapGetter<TraceCarrier | undefined> = {
  keys: () => [TRACEPARENT_HEADER, TRACESTATE_HEADER],
  get: (carrier, key) => {
    // Only the trace context is read: baggage and anything else a propagator asks for stays unread.
    if (key === TRACEPARENT_HEADER) return boundedHeaderText(carrier?.[key], MAX_TRACEPARENT_CHARS);
    if (key === TRACESTATE_HEADER) return boundedHeaderText(carrier?.[key], MAX_TRACESTATE_CHARS);
    return undefined;
  },
};

/**
 * The remote parent carried by a message's (or request's) headers, or undefined when there is no
 * `traceparent`, it is malformed, too long or repeated, or tracing is off. Costs one property look-up
 * when the header is absent.
 */
export function traceContextOf(headers: TraceCarrier | undefined): Context | undefined {
  if (headers === undefined || headers[TRACEPARENT_HEADER] === undefined) return undefined;
  const ctx = propagation.extract(ROOT_CONTEXT, headers, boundedGetter);
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && isSpanContextValid(sc) ? ctx : undefined;
}

/**
 * The `traceparent` (and `tracestate`) headers that make `ctx`'s span the parent of what a consumer
 * does with the message, or undefined when `ctx` holds no valid span (tracing off, not sampled by a
 * propagator that drops those). Only these two headers are written.
 */
export function traceHeadersOf(ctx: Context): Record<string, string> | undefined {
  if (trace.getSpanContext(ctx) === undefined) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const parent = carrier[TRACEPARENT_HEADER];
  if (parent === undefined) return undefined;
  const state = carrier[TRACESTATE_HEADER];
  return state === undefined ? { [TRACEPARENT_HEADER]: parent } : { [TRACEPARENT_HEADER]: parent, [TRACESTATE_HEADER]: state };
}

/** The tracer of a livescope component (its package name); a no-op until a tracer provider is registered. */
export function livescopeTracer(component: string): Tracer {
  return trace.getTracer(component);
}

/** Attribute names of livescope's spans beyond the OpenTelemetry semantic conventions. */
export const SpanAttributes = {
  eventId: 'livescope.event.id',
  eventType: 'livescope.event.type',
  outcome: 'livescope.outcome',
  identitiesChanged: 'livescope.identities_changed',
  commands: 'livescope.commands',
  commandsApplied: 'livescope.commands.applied',
  commandsRejected: 'livescope.commands.rejected',
  orderId: 'livescope.order.id',
} as const;

/** OpenTelemetry messaging semantic-convention attribute names used on Kafka spans. */
export const MessagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  offset: 'messaging.kafka.offset',
  messageKey: 'messaging.kafka.message.key',
  batchCount: 'messaging.batch.message_count',
  consumerGroup: 'messaging.consumer.group.name',
} as const;

/** The messaging attributes of a Kafka span: system, operation, and the topic and partition when there is one. */
export function kafkaSpanAttributes(operation: 'publish' | 'process', topic?: string, partition?: number): Attributes {
  const a: Attributes = { [MessagingAttributes.system]: 'kafka', [MessagingAttributes.operationType]: operation };
  if (topic !== undefined) a[MessagingAttributes.destination] = topic;
  if (partition !== undefined) a[MessagingAttributes.partition] = String(partition);
  return a;
}
