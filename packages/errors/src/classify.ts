import { LivescopeError, type ErrorClass } from './LivescopeError.js';

/**
 * Classifies any error, including those livescope did not throw, by their fields — never by their
 * message text:
 * - livescope errors: their own `classification`;
 * - kafkajs errors: the broker's error `type` where it says something about the input (a record
 *   too large is poison of the input that made it), authorization failures are fatal (a
 *   configuration problem: retrying changes nothing), otherwise kafkajs's own `retriable` flag. The
 *   wrappers kafkajs's retrier throws (`KafkaJSNonRetriableError`, `KafkaJSNumberOfRetriesExceeded`)
 *   are classified by what they wrap: retries running out on a connection error is still transient;
 * - PostgreSQL server errors, by SQLSTATE class (`08` connection, `57P0x` shutdown, `53` resources,
 *   `40001`/`40P01` serialisation and deadlock, `55P03` lock, `57014` cancel: transient; `22` data,
 *   `23` integrity, `54` program limit: poison — the data written made them; others fatal);
 * - Node.js system errors (`ECONNREFUSED`, `ECONNRESET`, …, undici's `UND_ERR_*` socket errors): transient;
 * - a `cause` that is transient makes its wrapper transient (e.g. `fetch failed` caused by ECONNREFUSED);
 * - anything else is fatal: an unexpected exception is a defect, and the caller decides whether it
 *   can confine it to one input (the scope engine does, per event).
 */
export function classify(e: unknown): ErrorClass {
  return classifyAt(e, 0);
}

const KAFKA_POISON_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP', 'CORRUPT_MESSAGE_VALUE']);
const KAFKA_FATAL_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'UNKNOWN_TOPIC_OR_PARTITION_FATAL',
  'INVALID_CONFIG',
  'POLICY_VIOLATION',
]);
const KAFKA_REASSIGNED_TYPES = new Set(['FENCED_INSTANCE_ID', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

const SYSTEM_TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

function field(e: object, name: string): unknown {
  return (e as Record<string, unknown>)[name];
}

/** Classification of a PostgreSQL SQLSTATE (5 characters). */
export function classifySqlState(code: string): ErrorClass {
  const cls = code.slice(0, 2);
  if (cls === '08' || cls === '53' || code === '57P01' || code === '57P02' || code === '57P03' || code === '57014' || code === '40001' || code === '40P01' || code === '55P03') return 'transient';
  if (cls === '22' || cls === '23' || cls === '54') return 'poison';
  return 'fatal';
}

function classifyAt(e: unknown, depth: number): ErrorClass {
  if (e instanceof LivescopeError) return e.classification;
  if (typeof e !== 'object' || e === null || depth > 8) return 'fatal';
  const name = field(e, 'name');
  const cause = field(e, 'cause');
  if (typeof name === 'string' && name.startsWith('KafkaJS')) {
    if ((name === 'KafkaJSNonRetriableError' || name === 'KafkaJSNumberOfRetriesExceeded') && cause !== undefined && cause !== e) {
      const inner = classifyAt(cause, depth + 1);
      // Retries running out on something retriable (the broker stayed away) is still transient.
      return name === 'KafkaJSNumberOfRetriesExceeded' && inner === 'fatal' && field(cause as object, 'retriable') !== false ? 'transient' : inner;
    }
    const type = field(e, 'type');
    if (typeof type === 'string') {
      if (KAFKA_POISON_TYPES.has(type)) return 'poison';
      if (KAFKA_FATAL_TYPES.has(type)) return 'fatal';
      if (KAFKA_REASSIGNED_TYPES.has(type)) return 'reassigned';
    }
    if (name === 'KafkaJSSASLAuthenticationError') return 'fatal';
    return field(e, 'retriable') === false ? 'fatal' : 'transient';
  }
  const code = field(e, 'code');
  if (typeof code === 'string') {
    if (SQLSTATE.test(code) && typeof field(e, 'severity') === 'string') return classifySqlState(code);
    if (SYSTEM_TRANSIENT_CODES.has(code)) return 'transient';
  }
  if (cause !== undefined && cause !== e && classifyAt(cause, depth + 1) === 'transient') return 'transient';
  return 'fatal';
}
