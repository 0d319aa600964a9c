import { loadConfig, startTracing, tracingOptions } from '@livescope/runtime';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans recorded in memory by the process's OpenTelemetry tracing (see `recordSpans`). */
export interface SpanRecorder {
  /** Every span ended since the start or the last `reset`. */
  spans(): ReadableSpan[];
  reset(): void;
  /** Unregisters the tracing (the recorded spans are dropped). */
  stop(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing in this process as a service starts it (`startTracing`: tracer
 * provider, W3C propagator, context manager), its spans kept by the SDK's in-memory exporter.
 * `env`: the tracing variables (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, …).
 */
export function recordSpans(env: Record<string, string> = {}): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing(loadConfig(tracingOptions, env), 'test', { spanProcessor: new SimpleSpanProcessor(exporter) });
  return { spans: () => exporter.getFinishedSpans(), reset: () => exporter.reset(), stop: () => tracing.shutdown() };
}
