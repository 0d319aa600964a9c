import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { commonOptions, ConfigError, loadConfig, samplerOf, startTracing, stoppable, tracesUrl, tracingOptions, withTracing } from './index.js';

describe('tracing options', () => {
  it('are off by default: no exporter, parent-based sampling of everything', () => {
    expect(loadConfig(tracingOptions, {})).toEqual({ otelExporter: 'none', otelSampler: 'parentbased_always_on' });
    expect(loadConfig(commonOptions, {}).otelExporter).toBe('none');
  });

  it('read LIVESCOPE_OTEL_EXPORTER and the standard OTEL_ variables', () => {
    const c = loadConfig(tracingOptions, {
      LIVESCOPE_OTEL_EXPORTER: 'OTLP',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/',
      OTEL_SERVICE_NAME: 'worker-eu-1',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(c).toMatchObject({ otelExporter: 'otlp', otelServiceName: 'worker-eu-1', otelSampler: 'parentbased_traceidratio', otelSamplerArg: 0.25 });
    expect(tracesUrl(c)).toBe('https://collector.example:4318/v1/traces');
    expect(tracesUrl({ ...c, otelTracesEndpoint: 'http://c:4318/custom' })).toBe('http://c:4318/custom');
    expect(tracesUrl({})).toBe('http://localhost:4318/v1/traces');
    expect(samplerOf(c.otelSampler, c.otelSamplerArg).toString()).toContain('0.25');
  });

  it('refuse bad values at start, naming the variable', () => {
    const bad: Array<[Record<string, string>, string]> = [
      [{ LIVESCOPE_OTEL_EXPORTER: 'jaeger' }, 'LIVESCOPE_OTEL_EXPORTER'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/v1/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
      [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_TRACES_SAMPLER_ARG: '0.5' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_SERVICE_NAME: ' ' }, 'OTEL_SERVICE_NAME'],
    ];
    for (const [env, variable] of bad) {
      let error: unknown;
      try {
        loadConfig(tracingOptions, env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variables).toEqual([variable]);
    }
  });
});

describe('startTracing', () => {
  it('with the exporter none registers nothing: spans are no-ops, nothing is propagated', async () => {
    const tracing = startTracing(loadConfig(tracingOptions, {}), 'test');
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('t').startSpan('x');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
    expect(carrier).toEqual({});
    await tracing.shutdown();
  });

  it('registers a provider, the W3C propagator and a context manager; shutdown exports and unregisters them', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing(loadConfig(tracingOptions, { OTEL_SERVICE_NAME: 'svc-x' }), 'test', { spanProcessor: new SimpleSpanProcessor(exporter) });
    expect(tracing.enabled).toBe(true);
    expect(() => startTracing(loadConfig(tracingOptions, {}), 'again', { spanProcessor: new SimpleSpanProcessor(exporter) })).toThrow(/already started/);
    const tracer = trace.getTracer('t');
    const parent = tracer.startSpan('parent');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      await Promise.resolve();
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      expect(carrier.traceparent).toBe(`00-${parent.spanContext().traceId}-${parent.spanContext().spanId}-01`);
      tracer.startSpan('child').end();
    });
    parent.end();
    const [child, p] = exporter.getFinishedSpans();
    expect(child!.parentSpanContext?.spanId).toBe(p!.spanContext().spanId);
    expect(p!.resource.attributes['service.name']).toBe('svc-x');
    // The service's `done` settles after the tracing shut down.
    const handle = withTracing(stoppable(() => Promise.resolve()), tracing);
    expect(trace.getTracer('t').startSpan('before').isRecording()).toBe(true);
    await handle.stop();
    await handle.done;
    expect(trace.getTracer('t').startSpan('after').isRecording()).toBe(false);
  });
});

describe('startTracing with the OTLP exporter', () => {
  it('exports spans as OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, with the service name', async () => {
    const received: { url: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const tracing = startTracing(loadConfig(tracingOptions, { LIVESCOPE_OTEL_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }), 'scope-worker');
      trace.getTracer('@livescope/test').startSpan('process livescope.events.v1').end();
      await tracing.shutdown();
      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe('/v1/traces');
      const body = JSON.parse(received[0]!.body) as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { scope: { name: string }; spans: { name: string }[] }[] }[] };
      const rs = body.resourceSpans[0]!;
      expect(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue).toBe('scope-worker');
      expect(rs.scopeSpans[0]!.scope.name).toBe('@livescope/test');
      expect(rs.scopeSpans[0]!.spans.map((s) => s.name)).toEqual(['process livescope.events.v1']);
    } finally {
      server.close();
    }
  });
});
