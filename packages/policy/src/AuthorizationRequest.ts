import type { CedarRecord } from './CedarValue.js';
import type { EntityUid } from './EntityUid.js';

/** A request with native values, as the compiled evaluator takes it. */
export interface AuthorizationRequest {
  readonly principal: EntityUid;
  readonly action: EntityUid;
  readonly resource: EntityUid;
  /** Defaults to the empty record. */
  readonly context?: CedarRecord;
}

/** Cedar's answer: default deny, forbid overrides permit, erroring policies skipped and listed. */
export interface AuthorizationResult {
  readonly decision: 'allow' | 'deny';
  /** Ids of the determining policies: satisfied forbids when denied by one, else satisfied permits. */
  readonly reason: string[];
  /** Ids of the policies whose evaluation raised an error (they were skipped). */
  readonly errors: string[];
  /** One message per entry of `errors`, same order. */
  readonly errorMessages: string[];
}
