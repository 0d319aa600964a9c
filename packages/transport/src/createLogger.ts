import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths redacted from every log line: credentials and raw payloads never reach logs. */
export const redactPaths = ['*.password', '*.token', '*.secret', '*.privateKey', '*.authorization', 'req.headers.authorization', 'headers.authorization', '*.value', 'config.pgUrl'];

/**
 * The project's logger: pino JSON lines with a `service` field. `LIVESCOPE_LOG_PRETTY` is not
 * supported on purpose (no extra dependency); pipe through `pino-pretty` if you want colours.
 */
export function createLogger(service: string, level: string = 'info', options: LoggerOptions = {}): Logger {
  return pino({ name: service, level, base: { service }, redact: { paths: redactPaths, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime, ...options });
}
