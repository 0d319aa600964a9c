import { LivescopeError, markErrorClass } from '@livescope/errors';

/**
 * Root error of the policy package. `code` is stable; `details` locates the problem in the policy
 * text (1-based line and column) when there is one.
 *
 * Classification: parse, validation, link and schema errors are `poison` (the same input will never
 * compile); entity and context conversion errors are `poison` too (bad data); evaluation errors never
 * escape `isAuthorized` (they are reported per policy in `errors`, as Cedar does).
 */
export const PolicyErrorCode = {
  /** The Cedar policy text does not parse. */
  parse: 'POLICY_PARSE',
  /** The policies do not validate against the schema. */
  validation: 'POLICY_VALIDATION',
  /** A template link names an unknown template, misses a slot or reuses an id. */
  link: 'POLICY_LINK',
  /** The schema text does not parse. */
  schema: 'POLICY_SCHEMA',
  /** Entity, context or request data is not valid Cedar data. */
  data: 'POLICY_DATA',
  /** A Cedar evaluation error (type error, overflow, missing attribute…): the policy is skipped. */
  evaluation: 'POLICY_EVALUATION',
  /** cedar-wasm failed where it was expected to succeed (fallback evaluation). */
  engine: 'POLICY_ENGINE',
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

export interface PolicyErrorDetails {
  /** Policy (or template) id the error belongs to. */
  readonly policyId?: string;
  /** 1-based line in the text given to the compiler (the whole set, or the entry named by `source`). */
  readonly line?: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column?: number;
  /** Which input the position refers to: an `{id, text}` entry id, `templates:<id>`, or `policies`/`schema`. */
  readonly source?: string;
  /** Extra explanation from Cedar, e.g. "did you mean `User`?". */
  readonly help?: string;
  /** Every problem found when there are several (validation reports them all at once). */
  readonly problems?: readonly PolicyProblem[];
}

export interface PolicyProblem {
  readonly message: string;
  readonly policyId?: string;
  readonly line?: number;
  readonly column?: number;
  readonly source?: string;
  readonly help?: string;
}

export class PolicyError extends LivescopeError<PolicyErrorCode> {
  readonly details: PolicyErrorDetails;

  constructor(code: PolicyErrorCode, message: string, details: PolicyErrorDetails = {}, options: { cause?: unknown } = {}) {
    super(code, 'poison', message, options);
    this.details = details;
  }
}
markErrorClass(PolicyError, 'PolicyError');

let pendingMessage = '';

/**
 * The one object thrown for Cedar evaluation errors (type errors, overflow, missing attributes…).
 * Building an Error costs more than evaluating a policy, and these are caught at once by
 * `isAuthorized` (which reports them per policy), so one shared instance is thrown and its
 * `message` reads the message of the latest error.
 */
const EVALUATION_FAILURE: PolicyError = (() => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const e = new PolicyError(PolicyErrorCode.evaluation, 'Cedar evaluation error');
    Object.defineProperty(e, 'message', { get: () => pendingMessage });
    return e;
  } finally {
    Error.stackTraceLimit = limit;
  }
})();

/** A Cedar evaluation error with this message, to `throw` from evaluation code (see `EVALUATION_FAILURE`). */
export function evaluationError(message: string): PolicyError {
  pendingMessage = message;
  return EVALUATION_FAILURE;
}

/** Whether `e` is an evaluation error thrown by `evaluationError`. */
export function isEvaluationError(e: unknown): boolean {
  return e === EVALUATION_FAILURE;
}

/**
 * Runs `f` and turns a shared evaluation error into an error of its own (for public entry points
 * such as `IpAddr.parse`, whose caller may keep the error).
 */
export function ownEvaluationError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e === EVALUATION_FAILURE) throw new PolicyError(PolicyErrorCode.evaluation, pendingMessage);
    throw e;
  }
}
