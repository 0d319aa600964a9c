import { LivescopeError, markErrorClass } from '@livescope/errors';

/**
 * Root error of the caep package. Verification failures carry the RFC 8935 error code a receiver
 * answers with (`invalid_request`, `invalid_key`, `invalid_issuer`, `invalid_audience`,
 * `authentication_failed`, `access_denied`), plus `replayed` for a `jti` already received; they are
 * `poison` (the same SET will never verify). `BAD_KEY` is a configuration error (`fatal`).
 */
export type CaepErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied' | 'replayed' | 'BAD_KEY';

export class CaepError extends LivescopeError<CaepErrorCode> {
  constructor(code: CaepErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, code === 'BAD_KEY' ? 'fatal' : 'poison', message, options);
  }
}
markErrorClass(CaepError, 'CaepError');
