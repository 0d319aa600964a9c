import { recordSpans, type SpanRecorder } from '@livescope/testkit';
import { TRACEPARENT_HEADER } from '@livescope/transport';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchSpans } from './BatchSpans.js';
import { AckBuffer } from './AckBuffer.js';
import { CommandProcessor } from './CommandProcessor.js';
import { EnforcerState } from './EnforcerState.js';
import { change, message, T0, testKeys, topics } from './testing/builders.js';

let recorder: SpanRecorder;
const parent = (n: number): string => `00-${n.toString(16).padStart(32, 'a')}-${n.toString(16).padStart(16, 'b')}-01`;
beforeAll(() => (recorder = recordSpans()));
afterAll(() => recorder.stop());

const keys = testKeys('k1');
const processor = (): CommandProcessor => {
  const p = new CommandProcessor({ enforcerId: 'gw-1', topics, trustedKeys: [keys.trusted], state: new EnforcerState(() => 0), acks: new AckBuffer(), onReady: () => undefined });
  p.begin([], T0);
  return p;
};

describe('BatchSpans (the enforcer’s spans of a batch of commands)', () => {
  it('a fan-out batch of one trace context: one span, child of the commands’ publish span, with the counts', () => {
    recorder.reset();
    const p = processor();
    const spans = new BatchSpans(topics.scopeChanges, 2, T0);
    for (let i = 0; i < 500; i++) {
      const m = message(topics.scopeChanges, `sa-${i}`, change(`sa-${i}`, 1), i, { keys });
      const headers = { ...m.headers, [TRACEPARENT_HEADER]: Buffer.from(parent(1)) };
      // The trace header is unsigned metadata: the signed command is applied with it.
      const outcome = p.handle({ ...m, headers }, T0);
      expect(outcome.type).toBe('applied');
      spans.add(headers, outcome);
    }
    spans.add({ [TRACEPARENT_HEADER]: parent(1) }, { type: 'rejected', kind: 'scope.change', code: 'X', reason: 'x', identityId: undefined, alert: {} as never });
    spans.end();
    const [span, ...more] = recorder.spans();
    expect(more).toEqual([]);
    expect(span!.kind).toBe(SpanKind.CONSUMER);
    expect(span!.spanContext().traceId).toBe(parent(1).split('-')[1]);
    expect(span!.parentSpanContext?.spanId).toBe(parent(1).split('-')[2]);
    expect(span!.attributes).toMatchObject({ 'messaging.batch.message_count': 501, 'livescope.commands.applied': 500, 'livescope.commands.rejected': 1, 'messaging.destination.partition.id': '2' });
  });

  it('hostile headers: malformed ones make no span, distinct contexts are bounded per batch', () => {
    recorder.reset();
    const spans = new BatchSpans(topics.scopeChanges, 0, T0);
    const applied = { type: 'applied', kind: 'scope.change', identityId: 'x', version: 1 } as const;
    for (const bad of ['garbage', 'x'.repeat(100_000), [parent(1), parent(2)], Buffer.alloc(10)]) spans.add({ [TRACEPARENT_HEADER]: bad }, applied);
    for (let i = 1; i <= 1000; i++) spans.add({ [TRACEPARENT_HEADER]: parent(i) }, applied);
    spans.end();
    // The two malformed values that fit the bound ('garbage', ten NULs) take a slot each, and make no span.
    expect(recorder.spans()).toHaveLength(BatchSpans.MAX_CONTEXTS - 2);
    expect(recorder.spans().map((s) => s.spanContext().traceId)).toEqual(Array.from({ length: BatchSpans.MAX_CONTEXTS - 2 }, (_, i) => parent(i + 1).split('-')[1]));
  });
});
