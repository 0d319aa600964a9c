/**
 * Root error of the control plane. `code` is stable (API clients and the CLI switch on it) and maps
 * to one HTTP status; `paths` name the failing fields of an invalid request. Messages never carry
 * tokens or request bodies.
 */
export const ErrorCode = {
  invalidRequest: 'INVALID_REQUEST',
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  rateLimited: 'RATE_LIMITED',
  unavailable: 'UNAVAILABLE',
  policyCompilerUnavailable: 'POLICY_COMPILER_UNAVAILABLE',
  config: 'CONFIG',
  internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  POLICY_COMPILER_UNAVAILABLE: 503,
  CONFIG: 500,
  INTERNAL: 500,
};

export class ControlPlaneError extends Error {
  static readonly marker = Symbol.for('livescope.ControlPlaneError');
  readonly code: ErrorCode;
  /** Failing field paths of an invalid request, dotted (`target.identityId`). */
  readonly paths: readonly string[];
  /** transient: the caller may retry (a dependency is down); fatal: it will fail again as is. */
  readonly classification: 'transient' | 'fatal';

  constructor(code: ErrorCode, message: string, options: { paths?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ControlPlaneError';
    this.code = code;
    this.paths = options.paths ?? [];
    this.classification = code === 'UNAVAILABLE' ? 'transient' : 'fatal';
    Object.defineProperty(this, ControlPlaneError.marker, { value: true });
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }

  /** Works across duplicate installs of the package, unlike `instanceof`. */
  static is(e: unknown): e is ControlPlaneError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[ControlPlaneError.marker] === true;
  }
}
