import { LivescopeError, markErrorClass } from '@livescope/errors';

/**
 * Root error of the interop service. Classified where thrown: `transient` (retry with backoff),
 * `poison` (dead-letter the input and move on) or `fatal` (stop cleanly with the message).
 */
export type InteropErrorCode = 'CONFIG' | 'KAFKA' | 'REGISTRY' | 'DELIVERY' | 'STORE' | 'INPUT' | 'SUBJECT_MISSING';

export class InteropError extends LivescopeError<InteropErrorCode> {
  constructor(code: InteropErrorCode, classification: 'transient' | 'poison' | 'fatal', message: string, options: { cause?: unknown } = {}) {
    super(code, classification, message, options);
  }
}
markErrorClass(InteropError, 'InteropError');
