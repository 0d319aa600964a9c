import { classifySqlState, LivescopeError, markErrorClass, type ErrorClass, type ErrorContext } from '@livescope/errors';

export type StoreErrorCode =
  | 'PG_UNAVAILABLE'
  | 'PG_ERROR'
  | 'PG_DATA'
  | 'FENCED'
  | 'MIGRATION'
  | 'CORRUPT_STATE'
  /** An audit record without a canonical form: data that cannot be stored, like PG_DATA. */
  | 'INVALID_AUDIT_RECORD'
  /** The audit heads topic could not be read to its end in time (broker down or slow): retry. */
  | 'AUDIT_HEADS_UNAVAILABLE';

const classOf: Readonly<Record<StoreErrorCode, ErrorClass>> = {
  PG_UNAVAILABLE: 'transient',
  PG_ERROR: 'fatal',
  PG_DATA: 'poison',
  FENCED: 'reassigned',
  MIGRATION: 'fatal',
  CORRUPT_STATE: 'fatal',
  INVALID_AUDIT_RECORD: 'poison',
  AUDIT_HEADS_UNAVAILABLE: 'transient',
};

/**
 * Root error of the store. The classification follows from the code: `PG_UNAVAILABLE` transient (the
 * database is unreachable or restarting: retry with backoff); `PG_DATA` poison (the data written was
 * refused, e.g. a value PostgreSQL cannot store: the input that produced it is dead-lettered);
 * `INVALID_AUDIT_RECORD` poison too (an audit record without a canonical form); `FENCED` reassigned
 * (another worker moved the partition on: drop it and reload if assigned again);
 * `AUDIT_HEADS_UNAVAILABLE` transient; the others fatal.
 */
export class StoreError extends LivescopeError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, classOf[code], message, options);
  }
}
markErrorClass(StoreError, 'StoreError');

const SYSTEM_CODE = /^E[A-Z]+$/;
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

/**
 * Classifies an error node-postgres raised, by its fields: a server error by its SQLSTATE; a
 * Node.js system error (`ECONNREFUSED`, …) as unavailable; a defect in our own call (TypeError, …)
 * as fatal; any other client-side error (the connection closed under the query, a connect timeout:
 * node-postgres raises those as plain Errors without a code) as unavailable.
 */
export function classifyPgError(cause: unknown, what: string): StoreError {
  if (StoreError.is(cause)) return cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  let cls: ErrorClass;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !SYSTEM_CODE.test(code)) cls = classifySqlState(code);
  else if (typeof code === 'string' && SYSTEM_CODE.test(code)) cls = 'transient';
  else if (cause instanceof Error && PROGRAMMING_ERRORS.has(cause.name)) cls = 'fatal';
  else cls = 'transient';
  const storeCode: StoreErrorCode = cls === 'transient' ? 'PG_UNAVAILABLE' : cls === 'poison' ? 'PG_DATA' : 'PG_ERROR';
  return new StoreError(storeCode, `${what}: ${message}`, { cause, context: typeof code === 'string' ? { sqlState: code } : {} });
}
