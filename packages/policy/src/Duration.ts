import { ExtensionValue } from './ExtensionValue.js';
import { I64_MAX, I64_MIN, normalizeLong, type Long } from './Long.js';
import { evaluationError, ownEvaluationError } from './PolicyError.js';

const DURATION_PATTERN = /^-?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const UNIT_MS = [86_400_000n, 3_600_000n, 60_000n, 1000n, 1n] as const;

/** Cedar `duration`: a signed 64-bit number of milliseconds. */
export class Duration extends ExtensionValue {
  readonly extensionType = 'duration' as const;

  /** Milliseconds, as a normalized Long (number when safe). */
  constructor(readonly ms: Long) {
    super();
  }

  /** Parses like Cedar's `duration("…")` (`1d2h3m4s5ms`, optional leading `-`). */
  /** Parses like Cedar; throws a `PolicyError` (code `POLICY_EVALUATION`) naming the problem. */
  static parse(text: string): Duration {
    return ownEvaluationError(() => Duration.evaluate(text));
  }

  /** Cedar's constructor function as the evaluator runs it (throws the shared evaluation error). */
  static evaluate(text: string): Duration {
    const m = text === '' || text === '-' ? null : DURATION_PATTERN.exec(text);
    if (!m) throw evaluationError('invalid duration pattern');
    let total = 0n;
    for (let i = 0; i < 5; i++) {
      const digits = m[i + 1];
      if (digits !== undefined) total += BigInt(digits) * (UNIT_MS[i] as bigint);
    }
    if (text.startsWith('-')) total = -total;
    // Cedar accumulates with checked i64 arithmetic; the exact sum is in range iff every step was.
    const ms = total < I64_MIN || total > I64_MAX ? undefined : normalizeLong(total);
    if (ms === undefined) throw evaluationError('Duration overflows internal representation');
    return new Duration(ms);
  }

  equals(other: ExtensionValue): boolean {
    return other instanceof Duration && other.ms === this.ms;
  }

  toString(): string {
    return `${this.ms}ms`;
  }

  toCedarJson(): { __extn: { fn: string; arg: string } } {
    return { __extn: { fn: 'duration', arg: this.toString() } };
  }
}
