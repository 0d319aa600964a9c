export type StoreErrorCode = 'PG_UNAVAILABLE' | 'PG_ERROR' | 'FENCED' | 'MIGRATION' | 'CORRUPT_STATE';

/**
 * Root error of the store. `transient`: the database is unreachable or restarting (retry with
 * backoff); `fatal`: migrations or data that cannot be used. `FENCED` means another worker owns
 * the partition now: the caller drops the partition and reloads it.
 */
export class StoreError extends Error {
  static readonly marker = Symbol.for('livescope.StoreError');
  readonly code: StoreErrorCode;
  readonly classification: 'transient' | 'fatal';
  readonly context: Readonly<Record<string, string | number | undefined>>;

  constructor(code: StoreErrorCode, classification: 'transient' | 'fatal', message: string, options: { cause?: unknown; context?: Record<string, string | number | undefined> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.classification = classification;
    this.context = options.context ?? {};
    Object.defineProperty(this, StoreError.marker, { value: true });
  }

  static is(e: unknown): e is StoreError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[StoreError.marker] === true;
  }
}

const transientCodes = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300', '40001', '40P01']);
const transientNodeCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** Classifies a node-postgres error: connection loss and server shutdown are transient. */
export function classifyPgError(cause: unknown, what: string): StoreError {
  if (StoreError.is(cause)) return cause;
  const code = (cause as { code?: string }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  const transient =
    (code !== undefined && (transientCodes.has(code) || transientNodeCodes.has(code))) ||
    /Connection terminated|connection is not open|Client has encountered a connection error|timeout exceeded when trying to connect|the database system is (shutting down|starting up)/i.test(message);
  return new StoreError(transient ? 'PG_UNAVAILABLE' : 'PG_ERROR', transient ? 'transient' : 'fatal', `${what}: ${message}`, { cause });
}
