export { markErrorClass } from './markErrorClass.js';
export { ErrorClass, LivescopeError, type ErrorContext, type LivescopeErrorOptions } from './LivescopeError.js';
export { classify, classifySqlState } from './classify.js';
export { backoffDelay, DeadlineError, retry, sleep, withDeadline, type RetryOptions } from './retry.js';
