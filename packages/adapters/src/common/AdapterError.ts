/**
 * Root error of the adapters package. Mapping functions never throw for bad input (bad input becomes a
 * dead letter); an AdapterError means the adapter itself was misused or misconfigured, which is `fatal`.
 */
export type AdapterErrorCode = 'STATE_REUSED' | 'BAD_OPTIONS' | 'UNKNOWN_SOURCE';

export class AdapterError extends Error {
  static readonly marker = Symbol.for('livescope.AdapterError');
  readonly code: AdapterErrorCode;
  readonly classification = 'fatal' as const;

  constructor(code: AdapterErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AdapterError';
    this.code = code;
    Object.defineProperty(this, AdapterError.marker, { value: true });
  }

  /** Works across duplicate installs of the package, unlike `instanceof`. */
  static is(e: unknown): e is AdapterError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[AdapterError.marker] === true;
  }
}
