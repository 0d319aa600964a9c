import { LivescopeError, markErrorClass, type ErrorClass, type ErrorContext } from '@livescope/errors';

/**
 * Stable codes of the enforcer SDK's errors:
 * - `VERSION_ROLLBACK` (poison): a genuinely signed scope command older than one this enforcement
 *   point already saw (on the same topic, before its start, or recorded in its high-water file) — a
 *   replay meant to roll a narrowing back;
 * - `KEY_MISMATCH` (poison): a command whose message key is not the identity (or partition) it is about;
 * - `HIGH_WATER_FILE_INVALID` (fatal): the high-water file exists but cannot be read as one
 *   (starting without it would silently give up rollback protection; delete it to start anew);
 * - `HIGH_WATER_FILE_UNWRITABLE` (transient): writing the high-water file failed; retried at the next write;
 * - `SCHEMA_NOT_REGISTERED` (fatal): a topic the SDK reads or writes has no schema in the registry
 *   (no scope worker of this version ever ran on these topics);
 * - `GROUP_SHARED` (fatal): the consumer group `livescope-enforcer-<enforcerId>` has another member,
 *   so this instance does not see every command (two instances run with one `enforcerId`);
 * - `CONSUMER_STOPPED` (fatal): the consumer stopped for good (kafkajs gave up restarting it); `run()`
 *   rejects with it, its cause is kafkajs's error.
 */
export type EnforcerErrorCode = 'VERSION_ROLLBACK' | 'KEY_MISMATCH' | 'HIGH_WATER_FILE_INVALID' | 'HIGH_WATER_FILE_UNWRITABLE' | 'SCHEMA_NOT_REGISTERED' | 'GROUP_SHARED' | 'CONSUMER_STOPPED';

/** The root error of the enforcer SDK. Messages name identities, versions, topics and offsets; never payloads or keys. */
export class EnforcerError extends LivescopeError<EnforcerErrorCode> {
  constructor(code: EnforcerErrorCode, classification: ErrorClass, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(code, classification, message, options);
  }
}
markErrorClass(EnforcerError, 'EnforcerError');
