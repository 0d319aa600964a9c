export { markErrorClass } from './markErrorClass.js';
export { ErrorClass, LivescopeError, type ErrorContext, type LivescopeErrorOptions } from './LivescopeError.js';
export { classify, classifySqlState } from './classify.js';
export { backoffDelay, retry, sleep, type RetryOptions } from './retry.js';
