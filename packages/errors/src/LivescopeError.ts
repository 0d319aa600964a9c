import { markErrorClass } from './markErrorClass.js';

/**
 * How the code that catches an error must react, decided where the error is thrown:
 * - `transient`: a dependency is unavailable (broker, registry, database); retry the same step in
 *   place, with backoff — order is kept because the caller is blocked meanwhile;
 * - `poison`: this input can never be processed; dead-letter it (with the reason) and move on;
 * - `reassigned`: someone else owns the work now (a fenced partition); drop it, reload if assigned again;
 * - `fatal`: the process cannot go on as configured (bad configuration, authorization refused,
 *   a broken invariant); stop cleanly and exit non-zero.
 */
export const ErrorClass = {
  transient: 'transient',
  poison: 'poison',
  reassigned: 'reassigned',
  fatal: 'fatal',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];

/**
 * Where an error happened: topic, partition, offset, identity… Values are identifiers and numbers,
 * never payloads, headers or credentials (errors are logged whole).
 */
export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export interface LivescopeErrorOptions {
  readonly cause?: unknown;
  readonly context?: ErrorContext;
}

/**
 * The root of every livescope error: a stable `code` (clients switch on it), a `classification`,
 * `context` and `cause`. Each package has one subclass (ContractError, StoreError, …) that fixes the
 * codes it may throw. pino's `err` serializer logs `code`, `classification` and `context` with the
 * stack, because they are own enumerable fields.
 */
export class LivescopeError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly classification: ErrorClass;
  readonly context: ErrorContext;

  constructor(code: Code, classification: ErrorClass, message: string, options: LivescopeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.classification = classification;
    this.context = options.context ?? {};
  }

  /** `e instanceof this class`, across duplicate installs (see markErrorClass). */
  static is<T extends Error>(this: abstract new (...args: never[]) => T, e: unknown): e is T {
    return e instanceof this;
  }
}
markErrorClass(LivescopeError, 'LivescopeError');
