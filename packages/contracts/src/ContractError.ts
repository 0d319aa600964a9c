import { LivescopeError, markErrorClass, type ErrorContext } from '@livescope/errors';

/**
 * Root error of the contracts package. `code` is stable and doubles as the dead-letter reason for
 * decoding failures; every decoding error is `poison` (the bytes will never decode), never transient.
 */
export type ContractErrorCode =
  | 'not-wire-format'
  | 'unknown-schema-id'
  | 'not-json'
  | 'schema-invalid'
  | 'oversized'
  | 'missing-key'
  | 'key-mismatch';

export class ContractError extends LivescopeError<ContractErrorCode> {
  /** Field paths that failed validation, e.g. `data.expiresAt`. */
  readonly paths: readonly string[];

  constructor(code: ContractErrorCode, message: string, options: { paths?: readonly string[]; cause?: unknown; context?: ErrorContext } = {}) {
    super(code, 'poison', message, options);
    this.paths = options.paths ?? [];
  }
}
markErrorClass(ContractError, 'ContractError');
