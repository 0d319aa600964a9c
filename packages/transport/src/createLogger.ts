import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redactSecrets, REDACTED } from './redactSecrets.js';

export type { Logger };

/**
 * Paths pino redacts besides every secret-naming key (redactSecrets): raw message payloads
 * (`value`) one level down, which may carry anything a producer wrote.
 */
export const redactPaths = ['*.value'];

/**
 * The redaction every livescope logger uses: the value of every key naming a secret (password,
 * token, secret, authorization, cookie, private key, API key …) at any depth of a logged object,
 * a logged error's fields and the child logger's bindings, and `redactPaths`.
 */
export const redaction = {
  redact: { paths: redactPaths, censor: REDACTED },
  formatters: {
    log: (o: Record<string, unknown>): Record<string, unknown> => redactSecrets(o),
    bindings: (b: pino.Bindings): pino.Bindings => redactSecrets(b),
  },
} as const satisfies LoggerOptions;

/**
 * pino `mixin` adding the active span's `trace_id` and `span_id` to a line written inside a traced
 * operation (an API request, a traced event or command), so logs and traces join on the trace id.
 * Without an active span (tracing off: no context manager, so none ever is) it adds nothing.
 */
export function traceLogMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const sc = span.spanContext();
  // A fresh object each time: pino merges the line's fields into what the mixin returns.
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/**
 * The project's logger: pino JSON lines with a `service` field, secrets redacted at any depth, and
 * the active span's `trace_id` / `span_id` (see `traceLogMixin`).
 * `LIVESCOPE_LOG_PRETTY` is not supported on purpose (no extra dependency); pipe through
 * `pino-pretty` if you want colours. `destination`: stdout unless given (the CLI logs to stderr).
 */
export function createLogger(service: string, level: string = 'info', options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const o: LoggerOptions = { name: service, level, base: { service }, ...redaction, mixin: traceLogMixin, timestamp: pino.stdTimeFunctions.isoTime, ...options, formatters: { ...redaction.formatters, ...options.formatters } };
  return redactChildBindings(destination ? pino(o, destination) : pino(o));
}

/**
 * Redacts the bindings of every child logger (`logger.child({ … })`, at any generation, fastify's
 * request loggers included): pino applies `formatters.bindings` to the root's only.
 */
export function redactChildBindings(logger: Logger): Logger {
  const child = Reflect.get(logger, 'child') as unknown as (...args: unknown[]) => Logger;
  Object.defineProperty(logger, 'child', {
    value: function (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
      return Reflect.apply(child, this, [redactSecrets(bindings), options]);
    },
    writable: true,
    configurable: true,
  });
  return logger;
}
