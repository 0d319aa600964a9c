/**
 * Root error of the interop service. Classified where thrown: `transient` (retry with backoff),
 * `poison` (dead-letter the input and move on) or `fatal` (stop cleanly with the message).
 */
export type InteropErrorCode = 'CONFIG' | 'KAFKA' | 'REGISTRY' | 'DELIVERY' | 'STORE' | 'INPUT' | 'SUBJECT_MISSING';

export class InteropError extends Error {
  static readonly marker = Symbol.for('livescope.InteropError');
  readonly code: InteropErrorCode;
  readonly classification: 'transient' | 'poison' | 'fatal';

  constructor(code: InteropErrorCode, classification: 'transient' | 'poison' | 'fatal', message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InteropError';
    this.code = code;
    this.classification = classification;
    Object.defineProperty(this, InteropError.marker, { value: true });
  }

  static is(e: unknown): e is InteropError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[InteropError.marker] === true;
  }
}
