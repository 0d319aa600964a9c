import { LivescopeError, markErrorClass, type ErrorContext } from '@livescope/errors';

/**
 * Root error of the control plane. `code` is stable (API clients and the CLI switch on it) and maps
 * to one HTTP status; `paths` name the failing fields of an invalid request. Messages never carry
 * tokens or request bodies. A 4xx answer shows the message (it describes the caller's input); a 5xx
 * answer shows only `publicMessage`, or the failing `component` and the classification, because
 * its message may quote a dependency's error (hosts, SQL, broker errors): that goes to the log.
 */
export const ErrorCode = {
  invalidRequest: 'INVALID_REQUEST',
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  idempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
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
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  POLICY_COMPILER_UNAVAILABLE: 503,
  CONFIG: 500,
  INTERNAL: 500,
};

/** The dependency a 5xx answer names instead of quoting its error. */
export type FailedComponent = 'kafka' | 'postgres' | 'registry' | 'policy-compiler';

export interface ControlPlaneErrorOptions {
  readonly paths?: readonly string[];
  readonly cause?: unknown;
  readonly context?: ErrorContext;
  /** The dependency that failed (5xx). */
  readonly component?: FailedComponent;
  /** What a 5xx answer may say: text written here, free of any dependency's error message. */
  readonly publicMessage?: string;
}

export class ControlPlaneError extends LivescopeError<ErrorCode> {
  /** Failing field paths of an invalid request, dotted (`target.identityId`). */
  readonly paths: readonly string[];
  readonly component: FailedComponent | undefined;
  readonly publicMessage: string | undefined;

  /** Classification: transient when a dependency is down (the caller may retry), poison for a request that will fail again as is, fatal for configuration and defects. */
  constructor(code: ErrorCode, message: string, options: ControlPlaneErrorOptions = {}) {
    super(code, code === 'UNAVAILABLE' || code === 'POLICY_COMPILER_UNAVAILABLE' ? 'transient' : code === 'CONFIG' || code === 'INTERNAL' ? 'fatal' : 'poison', message, options);
    this.paths = options.paths ?? [];
    this.component = options.component;
    this.publicMessage = options.publicMessage;
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }
}
markErrorClass(ControlPlaneError, 'ControlPlaneError');
