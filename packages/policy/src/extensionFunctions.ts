import { cedarTypeOf, type CedarValue } from './CedarValue.js';
import { Datetime } from './Datetime.js';
import { Decimal } from './Decimal.js';
import { Duration } from './Duration.js';
import { IpAddr } from './IpAddr.js';
import { truncDivLong } from './Long.js';
import { evaluationError } from './PolicyError.js';

/** Raises Cedar's type error for an argument of the wrong type. */
export function typeError(expected: string, got: CedarValue): never {
  throw evaluationError(`type error: expected ${expected}, got ${cedarTypeOf(got)}`);
}

function str(v: CedarValue): string {
  return typeof v === 'string' ? v : typeError('string', v);
}
function ip(v: CedarValue): IpAddr {
  return v instanceof IpAddr ? v : typeError('ipaddr', v);
}
function dec(v: CedarValue): Decimal {
  return v instanceof Decimal ? v : typeError('decimal', v);
}
function dt(v: CedarValue): Datetime {
  return v instanceof Datetime ? v : typeError('datetime', v);
}
function dur(v: CedarValue): Duration {
  return v instanceof Duration ? v : typeError('duration', v);
}

/** One Cedar extension function: its arity and its implementation over evaluated arguments. */
export interface ExtensionFunction {
  readonly arity: 1 | 2;
  /** True for the constructors (`ip`, `decimal`, `datetime`, `duration`): pure functions of a string. */
  readonly isConstructor?: boolean;
  readonly unary?: (a: CedarValue) => CedarValue;
  readonly binary?: (a: CedarValue, b: CedarValue) => CedarValue;
}

const u = (f: (a: CedarValue) => CedarValue, isConstructor = false): ExtensionFunction => ({ arity: 1, unary: f, isConstructor });
const b = (f: (a: CedarValue, b: CedarValue) => CedarValue): ExtensionFunction => ({ arity: 2, binary: f });

/** Every extension function of Cedar 4.x, by the name used in the JSON policy format (methods take the receiver first). */
export const extensionFunctions: ReadonlyMap<string, ExtensionFunction> = new Map<string, ExtensionFunction>([
  ['ip', u((a) => IpAddr.evaluate(str(a)), true)],
  ['isIpv4', u((a) => ip(a).isIpv4())],
  ['isIpv6', u((a) => ip(a).isIpv6())],
  ['isLoopback', u((a) => ip(a).isLoopback())],
  ['isMulticast', u((a) => ip(a).isMulticast())],
  ['isInRange', b((a, r) => ip(a).isInRange(ip(r)))],
  ['decimal', u((a) => Decimal.evaluate(str(a)), true)],
  ['lessThan', b((x, y) => dec(x).compare(dec(y)) < 0)],
  ['lessThanOrEqual', b((x, y) => dec(x).compare(dec(y)) <= 0)],
  ['greaterThan', b((x, y) => dec(x).compare(dec(y)) > 0)],
  ['greaterThanOrEqual', b((x, y) => dec(x).compare(dec(y)) >= 0)],
  ['datetime', u((a) => Datetime.evaluate(str(a)), true)],
  ['duration', u((a) => Duration.evaluate(str(a)), true)],
  ['offset', b((x, d) => dt(x).offset(dur(d)))],
  ['durationSince', b((x, y) => dt(x).durationSince(dt(y)))],
  ['toDate', u((a) => dt(a).toDate())],
  ['toTime', u((a) => dt(a).toTime())],
  ['toMilliseconds', u((a) => dur(a).ms)],
  ['toSeconds', u((a) => truncDivLong(dur(a).ms, 1000))],
  ['toMinutes', u((a) => truncDivLong(dur(a).ms, 60_000))],
  ['toHours', u((a) => truncDivLong(dur(a).ms, 3_600_000))],
  ['toDays', u((a) => truncDivLong(dur(a).ms, 86_400_000))],
]);

/** Applies an extension function by name (used for `__extn` data); throws on unknown names or arity. */
export function callExtensionFunction(name: string, args: readonly CedarValue[]): CedarValue {
  const f = extensionFunctions.get(name);
  if (!f) throw evaluationError(`unknown extension function \`${name}\``);
  if (args.length !== f.arity) throw evaluationError(`wrong number of arguments to \`${name}\`: expected ${f.arity}, got ${args.length}`);
  return f.arity === 1 ? f.unary!(args[0] as CedarValue) : f.binary!(args[0] as CedarValue, args[1] as CedarValue);
}
