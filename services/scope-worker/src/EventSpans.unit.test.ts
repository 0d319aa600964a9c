import { identityEvent } from '@livescope/contracts';
import { emptyOutput } from '@livescope/scope-engine';
import { recordSpans, type SpanRecorder } from '@livescope/testkit';
import { traceContextOf } from '@livescope/transport';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSpans } from './EventSpans.js';

let recorder: SpanRecorder;
beforeAll(() => (recorder = recordSpans()));
afterAll(() => recorder.stop());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';
const message = (offset: number): KafkaMessage => ({ offset: String(offset), key: null, value: null, timestamp: '0', attributes: 0, headers: { traceparent: Buffer.from(`00-${TRACE}-${PARENT_SPAN}-01`) } });
const event = (n: number) => identityEvent('identity.deleted', `sa-${n}`, { reason: 'test' }, { id: `e-${n}`, time: 0 });
const changeOf = (id: string) => ({ identityId: id }) as never;

describe('EventSpans (the worker’s spans of one batch)', () => {
  it('a batch produced in parts (outputs cleared after each part): each part finds its own events, earlier ones get no second publish span', () => {
    recorder.reset();
    const out = emptyOutput();
    const spans = new EventSpans('t.events', 1);
    const parent = traceContextOf(message(0).headers)!;
    const a = spans.begin(parent, message(0), event(0), out)!;
    out.changes.push(changeOf('a1'), changeOf('a2'));
    spans.applied(a, 'applied', out);
    spans.beginPublish();
    const ha = spans.headersFor('changes', 1)!;
    // The first part is produced; the lists start again from 0.
    out.changes.length = 0;
    spans.rebase();
    const b = spans.begin(parent, message(1), event(1), out)!;
    out.changes.push(changeOf('b1'));
    spans.applied(b, 'applied', out);
    spans.beginPublish();
    const hb = spans.headersFor('changes', 0)!;
    expect(hb.traceparent).not.toBe(ha.traceparent);
    expect(spans.headersFor('changes', 1)).toBeUndefined();
    spans.endPublish();
    spans.end();
    const publishes = recorder.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(publishes).toHaveLength(2);
  });

  it('one apply span per traced event however many identities it changes, one publish span when it produced commands, headers per output range', () => {
    recorder.reset();
    const out = emptyOutput();
    const spans = new EventSpans('t.events', 1);
    const parent = traceContextOf(message(0).headers)!;
    // Event 0 fans out to 1000 identities; event 1 changes nothing; event 2 two identities.
    const a = spans.begin(parent, message(0), event(0), out)!;
    for (let i = 0; i < 1000; i++) out.changes.push(changeOf(`sa-${i}`));
    spans.applied(a, 'applied', out);
    const b = spans.begin(parent, message(1), event(1), out)!;
    spans.applied(b, 'ignored', out);
    out.changes.push(changeOf('untraced')); // an untraced event of the same batch
    const c = spans.begin(parent, message(3), event(2), out)!;
    out.changes.push(changeOf('x'), changeOf('y'));
    out.revocations.push(changeOf('y'));
    spans.applied(c, 'applied', out);
    spans.beginPublish();
    const ha = spans.headersFor('changes', 0);
    expect(spans.headersFor('changes', 999)).toBe(ha);
    expect(spans.headersFor('changes', 1000)).toBeUndefined();
    const hc = spans.headersFor('changes', 1001)!;
    expect(spans.headersFor('changes', 1002)).toBe(hc);
    expect(spans.headersFor('revocations', 0)).toBe(hc);
    expect(spans.headersFor('snapshots', 0)).toBeUndefined();
    expect(hc.traceparent).not.toBe(ha!.traceparent);
    spans.endPublish();
    spans.end();

    const finished = recorder.spans();
    const applies = finished.filter((s) => s.kind === SpanKind.CONSUMER);
    const publishes = finished.filter((s) => s.kind === SpanKind.PRODUCER);
    expect(applies.map((s) => s.attributes['livescope.identities_changed'])).toEqual([1000, 0, 2]);
    expect(applies.map((s) => s.attributes['livescope.commands'])).toEqual([1000, 0, 3]);
    for (const s of applies) expect(s.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(publishes).toHaveLength(2);
    expect(publishes.map((p) => p.parentSpanContext?.spanId)).toEqual([applies[0]!.spanContext().spanId, applies[2]!.spanContext().spanId]);
    // The commands' traceparent names their publish span.
    expect(ha!.traceparent).toBe(`00-${TRACE}-${publishes[0]!.spanContext().spanId}-01`);
  });

  it('a failed batch ends its spans with an error; traced events beyond the bound are applied without a span', () => {
    recorder.reset();
    const out = emptyOutput();
    const spans = new EventSpans('t.events', 0);
    const parent = traceContextOf(message(0).headers)!;
    for (let i = 0; i < EventSpans.MAX_PER_BATCH + 10; i++) {
      const t = spans.begin(parent, message(i), event(i), out);
      expect(t === undefined).toBe(i >= EventSpans.MAX_PER_BATCH);
      if (t) spans.applied(t, 'applied', out);
    }
    spans.end(new Error('broker down'));
    const finished = recorder.spans();
    expect(finished).toHaveLength(EventSpans.MAX_PER_BATCH);
    expect(finished.every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
  });
});
