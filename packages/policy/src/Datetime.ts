import { Duration } from './Duration.js';
import { ExtensionValue } from './ExtensionValue.js';
import { normalizeLong, type Long } from './Long.js';
import { evaluationError, ownEvaluationError } from './PolicyError.js';

const DATE_PATTERN = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/;
const HMS_PATTERN = /^T([0-9]{2}):([0-9]{2}):([0-9]{2})/;
const MS_OFFSET_PATTERN = /^(?:\.([0-9]{3}))?(?:Z|([+-])([0-9]{2})([0-9]{2}))$/;
export const DAY_MS = 86_400_000;
const DAY_MS_BIG = 86_400_000n;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Cedar `datetime`: a signed 64-bit number of milliseconds since the Unix epoch (UTC, no leap seconds). */
export class Datetime extends ExtensionValue {
  readonly extensionType = 'datetime' as const;

  /** Milliseconds since 1970-01-01T00:00:00Z, as a normalized Long. */
  constructor(readonly ms: Long) {
    super();
  }

  /** The instant of a JavaScript epoch-millisecond timestamp (e.g. `Date.now()`). */
  static fromEpochMs(ms: number): Datetime {
    if (!Number.isSafeInteger(ms)) throw new RangeError(`${ms} is not an integer millisecond timestamp`);
    return new Datetime(ms === 0 ? 0 : ms);
  }

  /**
   * Parses like Cedar's `datetime("…")`: `YYYY-MM-DD`, optionally followed by `Thh:mm:ss`, optional
   * `.SSS`, and `Z` or `±hhmm`.
   */
  /** Parses like Cedar; throws a `PolicyError` (code `POLICY_EVALUATION`) naming the problem. */
  static parse(text: string): Datetime {
    return ownEvaluationError(() => Datetime.evaluate(text));
  }

  /** Cedar's constructor function as the evaluator runs it (throws the shared evaluation error). */
  static evaluate(text: string): Datetime {
    const date = DATE_PATTERN.exec(text);
    if (!date) throw evaluationError('invalid date pattern');
    const y = Number(date[1]);
    const mo = Number(date[2]);
    const d = Number(date[3]);
    const dateOk = mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
    let ms = 0;
    if (date[0].length !== text.length) {
      const rest = text.slice(date[0].length);
      const hms = HMS_PATTERN.exec(rest);
      if (!hms) throw evaluationError('invalid hour/minute/second pattern');
      const tail = MS_OFFSET_PATTERN.exec(rest.slice(hms[0].length));
      if (!tail) throw evaluationError('invalid millisecond and/or offset pattern');
      if (!dateOk) throw evaluationError(`invalid date: ${date[0]}`);
      const h = Number(hms[1]);
      const mi = Number(hms[2]);
      const s = Number(hms[3]);
      if (h > 23 || mi > 59 || s > 59) throw evaluationError(`invalid hour/minute/second: ${hms[0].slice(1)}`);
      ms = ((h * 60 + mi) * 60 + s) * 1000 + (tail[1] === undefined ? 0 : Number(tail[1]));
      if (tail[2] !== undefined) {
        const oh = Number(tail[3]);
        const om = Number(tail[4]);
        if (oh >= 24 || om >= 60) throw evaluationError(`invalid offset range: ${oh}${om}`);
        const offsetMs = (oh * 3600 + om * 60) * 1000;
        ms += tail[2] === '+' ? -offsetMs : offsetMs;
      }
    } else if (!dateOk) {
      throw evaluationError(`invalid date: ${date[0]}`);
    }
    const epoch = daysFromCivil(y, mo, d) * DAY_MS + ms;
    return new Datetime(epoch === 0 ? 0 : epoch);
  }

  equals(other: ExtensionValue): boolean {
    return other instanceof Datetime && other.ms === this.ms;
  }

  /** `offset(duration)`: errors on 64-bit overflow. */
  offset(d: Duration): Datetime {
    if (typeof this.ms === 'number' && typeof d.ms === 'number') {
      const r = this.ms + d.ms;
      if (Number.isSafeInteger(r)) return new Datetime(r);
    }
    const r = normalizeLong(BigInt(this.ms) + BigInt(d.ms));
    if (r === undefined) throw evaluationError(`overflows when adding an offset: ${this.toString()}+(${d.toString()})`);
    return new Datetime(r);
  }

  /** `durationSince(other)` = this - other; errors on 64-bit overflow. */
  durationSince(other: Datetime): Duration {
    if (typeof this.ms === 'number' && typeof other.ms === 'number') {
      const r = this.ms - other.ms;
      if (Number.isSafeInteger(r)) return new Duration(r === 0 ? 0 : r);
    }
    const r = normalizeLong(BigInt(this.ms) - BigInt(other.ms));
    if (r === undefined) throw evaluationError('overflows when computing the duration between two datetimes');
    return new Duration(r);
  }

  /** `toDate()`: midnight (UTC) of the day; errors when that is below the 64-bit range. */
  toDate(): Datetime {
    if (typeof this.ms === 'number') {
      const r = this.ms - (((this.ms % DAY_MS) + DAY_MS) % DAY_MS);
      if (Number.isSafeInteger(r)) return new Datetime(r === 0 ? 0 : r);
    }
    const big = BigInt(this.ms);
    const r = normalizeLong(big - (((big % DAY_MS_BIG) + DAY_MS_BIG) % DAY_MS_BIG));
    if (r === undefined) throw evaluationError(`overflows when computing the date of ${this.toString()}`);
    return new Datetime(r);
  }

  /** `toTime()`: the duration since midnight (UTC) of the day. */
  toTime(): Duration {
    if (typeof this.ms === 'number') {
      const r = ((this.ms % DAY_MS) + DAY_MS) % DAY_MS;
      return new Duration(r === 0 ? 0 : r);
    }
    return new Duration(Number(((this.ms % DAY_MS_BIG) + DAY_MS_BIG) % DAY_MS_BIG));
  }

  toString(): string {
    if (typeof this.ms === 'number' && Math.abs(this.ms) < 8.64e15) {
      const iso = new Date(this.ms).toISOString();
      if (/^\d{4}-/.test(iso)) return iso;
    }
    return `datetime("1970-01-01").offset(duration("${this.ms}ms"))`;
  }

  /** Canonical Cedar form `offset(datetime("1970-01-01"), duration("<ms>ms"))`, exact for every value. */
  toCedarJson(): { __extn: { fn: string; args: unknown[] } } {
    return {
      __extn: { fn: 'offset', args: [{ __extn: { fn: 'datetime', arg: '1970-01-01' } }, { __extn: { fn: 'duration', arg: `${this.ms}ms` } }] },
    };
  }
}
