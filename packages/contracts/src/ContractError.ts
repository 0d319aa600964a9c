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

export class ContractError extends Error {
  static readonly marker = Symbol.for('livescope.ContractError');
  readonly code: ContractErrorCode;
  readonly classification = 'poison' as const;
  /** Field paths that failed validation, e.g. `data.expiresAt`. */
  readonly paths: readonly string[];

  constructor(code: ContractErrorCode, message: string, options: { paths?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ContractError';
    this.code = code;
    this.paths = options.paths ?? [];
    Object.defineProperty(this, ContractError.marker, { value: true });
  }

  /** Works across duplicate installs of the package, unlike `instanceof`. */
  static is(e: unknown): e is ContractError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[ContractError.marker] === true;
  }
}
