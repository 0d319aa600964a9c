/**
 * Root error of the caep package. Verification failures carry the RFC 8935 error code a receiver
 * answers with (`invalid_request`, `invalid_key`, `invalid_issuer`, `invalid_audience`,
 * `authentication_failed`, `access_denied`), plus `replayed` for a `jti` already received; they are
 * `poison` (the same SET will never verify). `BAD_KEY` is a configuration error (`fatal`).
 */
export type CaepErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied' | 'replayed' | 'BAD_KEY';

export class CaepError extends Error {
  static readonly marker = Symbol.for('livescope.CaepError');
  readonly code: CaepErrorCode;
  readonly classification: 'poison' | 'fatal';

  constructor(code: CaepErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaepError';
    this.code = code;
    this.classification = code === 'BAD_KEY' ? 'fatal' : 'poison';
    Object.defineProperty(this, CaepError.marker, { value: true });
  }

  static is(e: unknown): e is CaepError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[CaepError.marker] === true;
  }
}
