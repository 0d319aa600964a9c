/**
 * Root error of the transport package. Every error is classified where it is thrown:
 * `transient` (retry with backoff), `poison` (dead-letter the input and move on) or `fatal`
 * (stop cleanly). Messages never carry payloads or credentials.
 */
export type ErrorClass = 'transient' | 'poison' | 'fatal';

export type TransportErrorCode =
  | 'REGISTRY_UNAVAILABLE'
  | 'REGISTRY_REJECTED'
  | 'KAFKA_UNAVAILABLE'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'UNKNOWN_KEY_ID'
  | 'TOPIC_METADATA'
  | 'SIGNING_THREAD'
  | 'CLIENT_CONFIG';

export class TransportError extends Error {
  static readonly marker = Symbol.for('livescope.TransportError');
  readonly code: TransportErrorCode;
  readonly classification: ErrorClass;
  readonly context: Readonly<Record<string, string | number | undefined>>;

  constructor(code: TransportErrorCode, classification: ErrorClass, message: string, options: { cause?: unknown; context?: Record<string, string | number | undefined> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.code = code;
    this.classification = classification;
    this.context = options.context ?? {};
    Object.defineProperty(this, TransportError.marker, { value: true });
  }

  static is(e: unknown): e is TransportError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[TransportError.marker] === true;
  }
}
