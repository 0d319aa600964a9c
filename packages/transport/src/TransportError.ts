import { LivescopeError, markErrorClass, type ErrorClass, type ErrorContext } from '@livescope/errors';

/**
 * Root error of the transport package. Every error is classified where it is thrown:
 * `transient` (retry with backoff), `poison` (dead-letter the input and move on) or `fatal`
 * (stop cleanly). Messages never carry payloads or credentials.
 */
export type { ErrorClass };

export type TransportErrorCode =
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_REJECTED'
  | 'KAFKA_UNAVAILABLE'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'KEY_EPOCH_REFUSED'
  | 'UNKNOWN_KEY_ID'
  | 'TOPIC_METADATA'
  | 'SIGNING_THREAD'
  | 'BAD_KEY'
  | 'CLIENT_CONFIG';

export class TransportError extends LivescopeError<TransportErrorCode> {
  constructor(code: TransportErrorCode, classification: ErrorClass, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, classification, message, options);
  }
}
markErrorClass(TransportError, 'TransportError');
