import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityEvent } from '@livescope/contracts';
import { Harness } from '@livescope/control-plane/testing';
import { PipelineFixture, recordSpans, waitFor, WorkerProcess, type SpanRecorder } from '@livescope/testkit';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 19 item 3 over the real broker, registry and PostgreSQL: the control plane, a scope worker
 * and an enforcer run in this process (the control plane's harness), with OpenTelemetry started as
 * a service starts it, its spans kept by the SDK's in-memory exporter. One order POSTed to the API
 * yields one trace: the request's server span → the control event's publish span → each worker
 * partition's apply span → the commands' publish span → the enforcer's apply span. Every hop after
 * the API crosses Kafka: the parent of each consumer span is known only through the message headers.
 * And a worker run as a process with `LIVESCOPE_OTEL_EXPORTER=otlp` exports its spans, continuing
 * the events' trace, to a collector over OTLP/HTTP (a local HTTP server standing in for one).
 */
let recorder: SpanRecorder;
const h = new Harness({ enforcer: true });
const T = new Date().toISOString();
let id: string;

const spans = (): ReadableSpan[] => recorder.spans();
const scope = (s: ReadableSpan): string => s.instrumentationScope.name;
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

beforeAll(async () => {
  recorder = recordSpans({ OTEL_SERVICE_NAME: 'livescope-e2e' });
  await h.open();
  id = `traced-${h.fx.id}`;
  await h.publish([
    identityEvent('identity.created', id, { kind: 'workload', name: 'traced', namespace: 'payments', owner: 'team-pay' }, { id: `${id}/1`, time: T }),
    identityEvent('entitlement.granted', id, { grantId: 'g-1', role: 'db', permissions: [{ action: 'db:write', resource: 'db/x', access: 'write' }] }, { id: `${id}/2`, time: T }),
  ]);
  await waitFor('the enforcer to allow', () => h.enforcer!.authorize(id, undefined, 'db:write', 'db/x').allowed, 30_000, 50);
});

afterAll(async () => {
  await h.close();
  await recorder?.stop();
});

describe('one order, one trace (OpenTelemetry, W3C trace context in Kafka headers)', () => {
  it('links the API request, the control event, the worker apply, the commands and the enforcer apply', async () => {
    // Events published without a trace context (the provisioning above) started no span in the pipeline.
    expect(spans().filter((s) => scope(s) !== '@livescope/control-plane')).toEqual([]);

    const responder = await h.token(['responder'], 'alice');
    const issued = await h.api('POST', '/v1/orders', responder, { kind: 'quarantine', target: { identityId: id }, reason: 'tracing e2e' });
    expect(issued.status).toBe(202);
    const { eventId } = issued.json as { eventId: string };
    await waitFor('the enforcer to deny', () => !h.enforcer!.authorize(id, undefined, 'db:write', 'db/x').allowed, 30_000, 20);

    const request = await waitFor('the request span to end', () => spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /v1/orders'), 10_000, 20);
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/orders', 'http.response.status_code': 202 });
    const traceId = request.spanContext().traceId;
    const inTrace = (): ReadableSpan[] => spans().filter((s) => s.spanContext().traceId === traceId);
    // Every partition applies its copy of the broadcast order (its span ends after the commit); the enforcer's span ends after its batch.
    const all = await waitFor(
      'the spans of every hop',
      () => {
        const t = inTrace();
        const applies = t.filter((s) => scope(s) === '@livescope/scope-worker' && s.kind === SpanKind.CONSUMER);
        return applies.length === h.fx.partitions && t.some((s) => scope(s) === '@livescope/enforcer') ? t : undefined;
      },
      30_000,
      20,
    );

    const publish = all.find((s) => scope(s) === '@livescope/control-plane' && s.kind === SpanKind.PRODUCER)!;
    expect(publish.name).toBe(`publish ${h.fx.topics.events}`);
    expect(parentOf(publish)).toBe(request.spanContext().spanId);
    expect(publish.attributes).toMatchObject({ 'messaging.system': 'kafka', 'livescope.event.id': eventId, 'livescope.event.type': 'order.issued' });

    // One apply span per consumed copy of the event (one per partition), each a child of the publish span.
    const applies = all.filter((s) => scope(s) === '@livescope/scope-worker' && s.kind === SpanKind.CONSUMER);
    expect(new Set(applies.map((s) => s.attributes['messaging.destination.partition.id']))).toEqual(new Set(Array.from({ length: h.fx.partitions }, (_, p) => String(p))));
    for (const a of applies) {
      expect(parentOf(a)).toBe(publish.spanContext().spanId);
      expect(a.attributes).toMatchObject({ 'livescope.event.id': eventId, 'livescope.event.type': 'order.issued', 'messaging.destination.name': h.fx.topics.events });
    }
    // Only the partition holding the identity changed something: it alone published commands.
    const changed = applies.filter((s) => (s.attributes['livescope.identities_changed'] as number) > 0);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.attributes['livescope.identities_changed']).toBe(1);
    const commands = all.filter((s) => scope(s) === '@livescope/scope-worker' && s.kind === SpanKind.PRODUCER);
    expect(commands).toHaveLength(1);
    expect(commands[0]!.name).toBe('publish commands');
    expect(parentOf(commands[0]!)).toBe(changed[0]!.spanContext().spanId);

    // The enforcer's apply span(s): children of the commands' publish span, with what they applied.
    const enforced = all.filter((s) => scope(s) === '@livescope/enforcer');
    expect(enforced.length).toBeGreaterThanOrEqual(1);
    for (const e of enforced) {
      expect(e.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(e)).toBe(commands[0]!.spanContext().spanId);
    }
    expect(enforced.reduce((n, e) => n + (e.attributes['livescope.commands.applied'] as number), 0)).toBeGreaterThanOrEqual(1);
    expect(enforced.every((e) => e.attributes['livescope.commands.rejected'] === 0)).toBe(true);

    // One trace per order: no span about this event lives in another trace.
    const aboutEvent = spans().filter((s) => s.attributes['livescope.event.id'] === eventId);
    expect(new Set(aboutEvent.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    expect(new Set(all.map((s) => s.resource.attributes['service.name']))).toEqual(new Set(['livescope-e2e']));
  });

  it('events with hostile trace headers (huge, repeated, garbage) are applied as any other, without a span', async () => {
    const before = spans().length;
    const other = `hostile-${h.fx.id}`;
    const events = [
      identityEvent('identity.created', other, { kind: 'workload', name: 'hostile', namespace: 'payments', owner: 'team-pay' }, { id: `${other}/1`, time: T }),
      identityEvent('entitlement.granted', other, { grantId: 'g-1', role: 'db', permissions: [{ action: 'db:read', resource: 'db/y', access: 'read' }] }, { id: `${other}/2`, time: T }),
    ];
    const messages = h.fx.publisher.messages(events, Date.now());
    const hostile = [{ traceparent: Array.from({ length: 200 }, () => 'x'.repeat(200)) }, { traceparent: `00-${'f'.repeat(32)}-${'f'.repeat(16)}-01`.repeat(1000), tracestate: 'garbage'.repeat(10_000) }];
    messages.forEach((m, i) => (m.headers = { ...m.headers, ...hostile[i] }));
    await h.fx.producer.send({ topic: h.fx.topics.events, acks: -1, messages });
    await waitFor('the enforcer to allow the identity provisioned with hostile headers', () => h.enforcer!.authorize(other, undefined, 'db:read', 'db/y').allowed, 30_000, 20);
    expect(spans().slice(before)).toEqual([]);
  });
});

/** The spans of the OTLP/HTTP JSON requests a collector received. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string | undefined;
}
function otlpSpans(bodies: readonly string[]): OtlpSpan[] {
  type Body = { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<OtlpSpan, 'service'>[] }[] }[] };
  return bodies.flatMap((b) =>
    (JSON.parse(b) as Body).resourceSpans.flatMap((rs) => {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => ({ traceId: sp.traceId, spanId: sp.spanId, ...(sp.parentSpanId ? { parentSpanId: sp.parentSpanId } : {}), name: sp.name, service })));
    }),
  );
}

describe('a scope worker process with LIVESCOPE_OTEL_EXPORTER=otlp', () => {
  let fx: PipelineFixture;
  let worker: WorkerProcess;
  let collector: Server;
  const bodies: string[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    fx = await new PipelineFixture(1).open();
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    worker = new WorkerProcess('otlp-worker', { ...fx.workerEnv(), LIVESCOPE_OTEL_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'worker-under-test' }).start();
  });

  afterAll(async () => {
    await worker?.stop();
    collector?.close();
    await fx?.close();
  });

  it('continues the trace of the events’ traceparent and exports its spans to the collector', async () => {
    const traceId = 'a1'.repeat(16);
    const parentSpanId = 'b2'.repeat(8);
    const sa = `sa-otlp-${fx.id}`;
    const created = identityEvent('identity.created', sa, { kind: 'workload', name: 'otlp', namespace: 'payments', owner: 'team-pay' }, { id: `${sa}/1`, time: T });
    const granted = identityEvent('entitlement.granted', sa, { grantId: 'g-1', role: 'db', permissions: [{ action: 'db:read', resource: 'db/y', access: 'read' }] }, { id: `${sa}/2`, time: T });
    await fx.producer.send({ topic: fx.topics.events, acks: -1, messages: fx.publisher.messages([created, granted], Date.now(), { traceparent: `00-${traceId}-${parentSpanId}-01` }) });
    const spans = await waitFor(
      'the worker process to export the spans of the traced event',
      () => {
        const inTrace = otlpSpans(bodies).filter((s) => s.traceId === traceId);
        return inTrace.some((s) => s.name === 'publish commands') && inTrace.filter((s) => s.name.startsWith('process ')).length >= 2 ? inTrace : undefined;
      },
      60_000,
      100,
    );
    // One apply span per event, children of the producer's span; the commands' span under the grant's.
    const applies = spans.filter((s) => s.name === `process ${fx.topics.events}`);
    expect(applies).toHaveLength(2);
    for (const a of applies) expect(a).toMatchObject({ parentSpanId, service: 'worker-under-test' });
    expect(applies.map((a) => a.spanId)).toContain(spans.find((s) => s.name === 'publish commands')!.parentSpanId);
  });
});
