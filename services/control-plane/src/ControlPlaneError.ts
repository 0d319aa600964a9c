import { LivescopeError, markErrorClass } from '@livescope/errors';

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

export class ControlPlaneError extends LivescopeError<ErrorCode> {
  /** Failing field paths of an invalid request, dotted (`target.identityId`). */
  readonly paths: readonly string[];

  /** Classification: transient when a dependency is down (the caller may retry), poison for a request that will fail again as is, fatal for configuration and defects. */
  constructor(code: ErrorCode, message: string, options: { paths?: readonly string[]; cause?: unknown } = {}) {
    super(code, code === 'UNAVAILABLE' || code === 'POLICY_COMPILER_UNAVAILABLE' ? 'transient' : code === 'CONFIG' || code === 'INTERNAL' ? 'fatal' : 'poison', message, options);
    this.paths = options.paths ?? [];
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }
}
markErrorClass(ControlPlaneError, 'ControlPlaneError');
