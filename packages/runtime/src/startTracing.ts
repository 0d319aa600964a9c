import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TraceExporterName, TraceSamplerName } from './commonOptions.js';
import type { ServiceHandle } from './runService.js';

/** The tracing fields of a service's configuration (`tracingOptions`). */
export interface TracingConfig {
  readonly otelExporter: TraceExporterName;
  readonly otelTracesEndpoint?: string | undefined;
  readonly otelEndpoint?: string | undefined;
  readonly otelServiceName?: string | undefined;
  readonly otelSampler: TraceSamplerName;
  readonly otelSamplerArg?: number | undefined;
}

export interface Tracing {
  /** Whether a tracer provider was registered (spans are recorded and exported). */
  readonly enabled: boolean;
  /** Exports what is buffered and unregisters the provider, propagator and context manager. */
  shutdown(): Promise<void>;
}

const DEFAULT_TRACES_URL = 'http://localhost:4318/v1/traces';

/** The OTLP/HTTP traces URL: the traces endpoint as is, else the base endpoint + `/v1/traces`, else the collector's default. */
export function tracesUrl(config: Pick<TracingConfig, 'otelTracesEndpoint' | 'otelEndpoint'>): string {
  if (config.otelTracesEndpoint !== undefined) return config.otelTracesEndpoint;
  if (config.otelEndpoint !== undefined) return `${config.otelEndpoint.replace(/\/+$/, '')}/v1/traces`;
  return DEFAULT_TRACES_URL;
}

/** The sampler `OTEL_TRACES_SAMPLER` (and `_ARG`) name, as the OpenTelemetry SDK specification defines them. */
export function samplerOf(name: TraceSamplerName, ratio = 1): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

/**
 * Starts OpenTelemetry tracing for a process, from its configuration: with `LIVESCOPE_OTEL_EXPORTER=none`
 * (the default) nothing is registered, and the API's tracers, propagator and context stay no-ops.
 * With `otlp`, registers globally a tracer provider (the configured sampler, spans batched to the
 * OTLP/HTTP exporter), the W3C trace-context propagator and an AsyncLocalStorage context manager.
 *
 * `spanProcessor` replaces the exporter (tests: a SimpleSpanProcessor over an InMemorySpanExporter),
 * and turns tracing on whatever `otelExporter` says.
 */
export function startTracing(config: TracingConfig, service: string, options: { spanProcessor?: SpanProcessor } = {}): Tracing {
  if (config.otelExporter === 'none' && options.spanProcessor === undefined) return OFF;
  const processor = options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(config) }));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.otelServiceName ?? service }),
    sampler: samplerOf(config.otelSampler, config.otelSamplerArg ?? 1),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  // Each set* refuses (returns false, leaving what is there) when one is registered already: one SDK per process.
  const registered = [trace.setGlobalTracerProvider(provider), context.setGlobalContextManager(contextManager), propagation.setGlobalPropagator(new W3CTraceContextPropagator())];
  if (registered.includes(false)) throw new Error('OpenTelemetry tracing is already started in this process');
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () =>
      (stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        context.disable();
        propagation.disable();
      })),
  };
}

/**
 * `handle` whose `done` settles once the spans still buffered are exported, or after `flushMs`
 * (a collector that is down must not hold the process past its grace period).
 */
export function withTracing(handle: ServiceHandle, tracing: Tracing, flushMs = 5_000): ServiceHandle {
  if (!tracing.enabled) return handle;
  const flush = (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs)));
    return Promise.race([tracing.shutdown().catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
  };
  return { done: handle.done.finally(flush), stop: () => handle.stop() };
}
