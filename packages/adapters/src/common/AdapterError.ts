import { LivescopeError, markErrorClass } from '@livescope/errors';

/**
 * Root error of the adapters package. Mapping functions never throw for bad input (bad input becomes a
 * dead letter); an AdapterError means the adapter itself was misused or misconfigured, which is `fatal`.
 */
export type AdapterErrorCode = 'STATE_REUSED' | 'BAD_OPTIONS' | 'UNKNOWN_SOURCE';

export class AdapterError extends LivescopeError<AdapterErrorCode> {
  constructor(code: AdapterErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, 'fatal', message, options);
  }
}
markErrorClass(AdapterError, 'AdapterError');
