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
 * The project's logger: pino JSON lines with a `service` field, secrets redacted at any depth.
 * `LIVESCOPE_LOG_PRETTY` is not supported on purpose (no extra dependency); pipe through
 * `pino-pretty` if you want colours. `destination`: stdout unless given (the CLI logs to stderr).
 */
export function createLogger(service: string, level: string = 'info', options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const o: LoggerOptions = { name: service, level, base: { service }, ...redaction, timestamp: pino.stdTimeFunctions.isoTime, ...options, formatters: { ...redaction.formatters, ...options.formatters } };
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
