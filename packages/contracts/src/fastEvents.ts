import { actionNamePattern, type LivescopeEvent } from './events.js';
import { idPattern, Instant } from './ids.js';

/**
 * A hand-written validator for the event types that make up almost all of the input (telemetry,
 * sessions, secret access), checked field by field against the same rules as the zod contract.
 * zod validates the large discriminated union generically, which was the largest single cost of
 * decoding. This path only ever *accepts*: anything it is not sure about (another type, an unknown
 * key, a value out of range) returns undefined, and the caller asks zod, which accepts it or
 * explains why not. `fastEvents.unit.test.ts` checks that whatever is accepted here zod accepts
 * with an equal result.
 *
 * The accepted object is the parsed JSON itself, with the contract's defaults filled in (so its
 * key order is the producer's, not the schema's; nothing depends on key order).
 */
type Json = Record<string, unknown>;

const instantPattern = Instant._zod.def.pattern!;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && idPattern.test(v);
const isText = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max;
const isName = (v: unknown): v is string => isText(v, 1, 256);
const isInstant = (v: unknown): v is string => typeof v === 'string' && instantPattern.test(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
const has = (o: Json, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const absentOr = (o: Json, k: string, check: (v: unknown) => boolean): boolean => !has(o, k) || check(o[k]);

/** Every own key of `o` is one of `allowed`, and every one of `required` is present. */
function onlyKeys(o: Json, allowed: readonly string[], required: readonly string[]): boolean {
  for (const k in o) if (!has(o, k) || !allowed.includes(k)) return false;
  for (const k of required) if (!has(o, k)) return false;
  return true;
}

const ENVELOPE = ['specversion', 'id', 'source', 'time', 'type', 'subject', 'data'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const OPERATIONS = ['read', 'write', 'list', 'delete'];

/**
 * Data checks (and defaults) per fast-path event type. A Map, not an object literal: a lookup by a
 * producer-chosen type must never find an inherited property (`constructor`, `toString`,
 * `__proto__`…), which on a plain object is a function that "accepts" anything.
 */
const DATA = new Map<string, (d: Json) => boolean>(Object.entries({
  'telemetry.risk-scored': (d) => onlyKeys(d, ['score', 'model'], ['score']) && isInt(d.score, 0, 100) && absentOr(d, 'model', isName),
  'telemetry.activity': (d) => {
    if (!(onlyKeys(d, ['action', 'resource', 'count'], ['action', 'resource']) && typeof d.action === 'string' && actionNamePattern.test(d.action) && isText(d.resource, 1, 512) && absentOr(d, 'count', (v) => isInt(v, 1, 1_000_000)))) return false;
    if (!has(d, 'count')) d.count = 1;
    return true;
  },
  'session.started': (d) => {
    if (
      !(
        onlyKeys(d, ['sessionId', 'task', 'mfa', 'tokenId', 'system', 'expiresAt'], ['sessionId']) &&
        isId(d.sessionId) &&
        absentOr(d, 'task', isName) &&
        absentOr(d, 'mfa', (v) => typeof v === 'boolean') &&
        absentOr(d, 'tokenId', isId) &&
        absentOr(d, 'system', isName) &&
        absentOr(d, 'expiresAt', isInstant)
      )
    )
      return false;
    if (!has(d, 'mfa')) d.mfa = false;
    if (!has(d, 'system')) d.system = 'livescope';
    return true;
  },
  'session.ended': (d) => onlyKeys(d, ['sessionId', 'reason'], ['sessionId']) && isId(d.sessionId) && absentOr(d, 'reason', (v) => isText(v, 0, 1024)),
  'session.task-completed': (d) => onlyKeys(d, ['sessionId'], ['sessionId']) && isId(d.sessionId),
  'telemetry.anomaly-detected': (d) =>
    onlyKeys(d, ['anomalyId', 'kind', 'severity', 'expiresAt'], ['anomalyId', 'kind', 'severity', 'expiresAt']) && isName(d.anomalyId) && isName(d.kind) && SEVERITIES.includes(d.severity as string) && isInstant(d.expiresAt),
  'secret.accessed': (d) => {
    if (
      !(
        onlyKeys(d, ['secretPath', 'operation', 'leaseId', 'sessionId', 'system'], ['secretPath', 'operation']) &&
        isName(d.secretPath) &&
        OPERATIONS.includes(d.operation as string) &&
        absentOr(d, 'leaseId', isId) &&
        absentOr(d, 'sessionId', isId) &&
        absentOr(d, 'system', isName)
      )
    )
      return false;
    if (!has(d, 'system')) d.system = 'vault';
    return true;
  },
} satisfies Record<string, (d: Json) => boolean>));

/** Types the fast path knows; anything else goes to zod. */
export const fastEventTypes: readonly string[] = [...DATA.keys()];

/**
 * The event, validated, when `json` is one of the hot identity event types and satisfies its
 * contract; undefined when this path cannot tell (then zod decides). May fill defaults into `json`.
 */
export function fastEvent(json: unknown): LivescopeEvent | undefined {
  if (!isObject(json)) return undefined;
  const check = typeof json.type === 'string' ? DATA.get(json.type) : undefined;
  if (check === undefined) return undefined;
  if (!onlyKeys(json, ENVELOPE, ENVELOPE)) return undefined;
  if (json.specversion !== '1.0' || !isId(json.id) || !isName(json.source) || !isInstant(json.time) || !isId(json.subject) || !isObject(json.data)) return undefined;
  return check(json.data) ? (json as unknown as LivescopeEvent) : undefined;
}
