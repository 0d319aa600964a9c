import { Writable } from 'node:stream';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IHeaders } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandSigner, CommandVerifier, generateSigningKeyPair, parsePrivateKey, parsePublicKey } from './CommandSigner.js';
import { createLogger } from './createLogger.js';
import { ProducerKeyring, ProducerSigner } from './ProducerKeyring.js';
import { boundedHeaderText, MAX_TRACEPARENT_CHARS, MAX_TRACESTATE_CHARS, traceContextOf, traceHeadersOf, TRACEPARENT_HEADER, TRACESTATE_HEADER } from './traceContext.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const PARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

const parentOf = (h: IHeaders | Record<string, unknown> | undefined): { traceId: string; spanId: string } | undefined => {
  const ctx = traceContextOf(h as IHeaders | undefined);
  const sc = ctx && trace.getSpanContext(ctx);
  return sc && { traceId: sc.traceId, spanId: sc.spanId };
};

describe('trace context in Kafka headers, tracing on', () => {
  beforeAll(() => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    propagation.disable();
    context.disable();
  });

  it('reads traceparent in every shape kafkajs gives a header: Buffer, string, an array of one', () => {
    for (const v of [Buffer.from(PARENT), PARENT, [PARENT], [Buffer.from(PARENT)]]) expect(parentOf({ [TRACEPARENT_HEADER]: v })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID });
  });

  it('absent headers, an absent or undefined traceparent: no context', () => {
    expect(parentOf(undefined)).toBeUndefined();
    expect(parentOf({})).toBeUndefined();
    expect(parentOf({ [TRACEPARENT_HEADER]: undefined })).toBeUndefined();
    expect(parentOf({ 'livescope-kid': 'k1' })).toBeUndefined();
  });

  it('a hostile traceparent (garbage, huge, repeated, bad version, zero ids) is ignored without throwing', () => {
    const hostile: unknown[] = [
      'garbage',
      '',
      Buffer.from([0xff, 0x00, 0xfe]),
      `00-${TRACE_ID}-${SPAN_ID}-01`.toUpperCase(),
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
      `${PARENT}${' '.repeat(MAX_TRACEPARENT_CHARS)}`,
      'x'.repeat(10_000_000),
      Buffer.alloc(1_000_000, 0x61),
      [PARENT, PARENT],
      Array.from({ length: 100_000 }, () => PARENT),
      [],
    ];
    for (const v of hostile) expect(parentOf({ [TRACEPARENT_HEADER]: v as string })).toBeUndefined();
  });

  it('keeps a valid traceparent when tracestate is huge, repeated or garbage (tracestate is dropped)', () => {
    for (const state of ['x'.repeat(MAX_TRACESTATE_CHARS + 1), ['a=1', 'b=2'], 'garbage,,,===', Buffer.alloc(100_000)]) {
      const ctx = traceContextOf({ [TRACEPARENT_HEADER]: PARENT, [TRACESTATE_HEADER]: state as string });
      expect(trace.getSpanContext(ctx!)?.traceId).toBe(TRACE_ID);
    }
    const kept = traceContextOf({ [TRACEPARENT_HEADER]: PARENT, [TRACESTATE_HEADER]: Buffer.from('vendor=abc') });
    expect(trace.getSpanContext(kept!)?.traceState?.get('vendor')).toBe('abc');
  });

  it('inject then extract through Kafka headers: the consumer span is a child of the producer span', () => {
    const producer = tracer.startSpan('publish');
    const headers = traceHeadersOf(trace.setSpan(ROOT_CONTEXT, producer));
    expect(Object.keys(headers!)).toEqual([TRACEPARENT_HEADER]);
    // As kafkajs hands them to a consumer: Buffers.
    const received: IHeaders = Object.fromEntries(Object.entries(headers!).map(([k, v]) => [k, Buffer.from(v)]));
    const consumer = tracer.startSpan('process', {}, traceContextOf(received));
    producer.end();
    consumer.end();
    const [p, c] = exporter.getFinishedSpans();
    expect(c!.spanContext().traceId).toBe(p!.spanContext().traceId);
    expect(c!.parentSpanContext?.spanId).toBe(p!.spanContext().spanId);
  });

  it('no span in the context: no headers', () => {
    expect(traceHeadersOf(ROOT_CONTEXT)).toBeUndefined();
  });

  it('bounds a header value by its length before converting it', () => {
    expect(boundedHeaderText(Buffer.from('abc'), 3)).toBe('abc');
    expect(boundedHeaderText('abcd', 3)).toBeUndefined();
    expect(boundedHeaderText(['abc'], 3)).toBe('abc');
    expect(boundedHeaderText(['a', 'b'], 3)).toBeUndefined();
    expect(boundedHeaderText(undefined, 3)).toBeUndefined();
  });

  it('trace headers are unsigned metadata: added, changed or hostile, signed commands and events still verify', () => {
    const keys = generateSigningKeyPair('w1');
    const signer = new CommandSigner(parsePrivateKey('w1', keys.privateKey), 2);
    const verifier = new CommandVerifier([parsePublicKey('w1', keys.publicKey)]);
    const batch = [0, 1, 2].map((i) => ({ topic: 'livescope.scope.changes.v1', key: `id-${i}`, value: Buffer.from(`{"v":${i}}`) }));
    const signed = signer.signBatch(batch);
    const producer = generateSigningKeyPair('cp');
    const keyring = new ProducerKeyring([{ keyId: 'cp', publicKey: parsePublicKey('cp', producer.publicKey).publicKey, eventTypes: ['*'] }]);
    const event = { key: '@broadcast', value: Buffer.from('{"type":"order.issued"}') };
    const eventHeaders = ProducerSigner.fromConfig('cp', producer.privateKey).headers('livescope.events.v1', event.key, event.value);
    for (const extra of [{ [TRACEPARENT_HEADER]: PARENT }, { [TRACEPARENT_HEADER]: 'garbage', [TRACESTATE_HEADER]: 'x'.repeat(100_000) }, { [TRACEPARENT_HEADER]: [PARENT, 'other'] }]) {
      batch.forEach((m, i) => expect(verifier.check(m.topic, m.key, m.value, { ...signed[i], ...extra }).kid).toBe('w1'));
      expect(keyring.check('livescope.events.v1', event.key, event.value, { ...eventHeaders, ...extra }, 'order.issued')).toMatchObject({ kind: 'trusted', keyId: 'cp' });
    }
  });
});

describe('trace ids in log lines', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger('test', 'info', {}, sink);

  it('a line written inside an active span carries its trace_id and span_id; one outside does not', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const span = tracer.startSpan('request');
      await context.with(trace.setSpan(context.active(), span), async () => {
        await Promise.resolve();
        logger.child({ component: 'http' }).info({ orderId: 'o-1' }, 'inside');
      });
      logger.info('outside');
      span.end();
      await new Promise((r) => setImmediate(r));
      expect(lines.find((l) => l.msg === 'inside')).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId, orderId: 'o-1', component: 'http' });
      expect(lines.find((l) => l.msg === 'outside')).not.toHaveProperty('trace_id');
    } finally {
      context.disable();
    }
  });

  it('tracing off (no context manager): no trace fields, even inside context.with', async () => {
    const span = tracer.startSpan('request');
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => logger.info('off'));
    span.end();
    await new Promise((r) => setImmediate(r));
    expect(lines.find((l) => l.msg === 'off')).not.toHaveProperty('trace_id');
  });
});

describe('trace context, tracing off (no propagator registered)', () => {
  it('extracts nothing and injects nothing', () => {
    expect(parentOf({ [TRACEPARENT_HEADER]: PARENT })).toBeUndefined();
    const span = tracer.startSpan('publish');
    expect(traceHeadersOf(trace.setSpan(ROOT_CONTEXT, span))).toBeUndefined();
    span.end();
  });
});
