import { ExtensionValue } from './ExtensionValue.js';
import { I64_MAX, I64_MIN } from './Long.js';
import { evaluationError, ownEvaluationError } from './PolicyError.js';

const SCALE = 10_000n;
const DECIMAL_PATTERN = /^(-?)([0-9]+)\.([0-9]+)$/;

/** Cedar `decimal`: a signed 64-bit integer scaled by 10^4 (four fractional digits). */
export class Decimal extends ExtensionValue {
  readonly extensionType = 'decimal' as const;

  /** The value times 10^4. */
  constructor(readonly scaled: bigint) {
    super();
  }

  /** Parses like Cedar's `decimal("…")`; throws a Cedar evaluation error when the text is not valid. */
  /** Parses like Cedar; throws a `PolicyError` (code `POLICY_EVALUATION`) naming the problem. */
  static parse(text: string): Decimal {
    return ownEvaluationError(() => Decimal.evaluate(text));
  }

  /** Cedar's constructor function as the evaluator runs it (throws the shared evaluation error). */
  static evaluate(text: string): Decimal {
    const m = DECIMAL_PATTERN.exec(text);
    if (!m) throw evaluationError(`\`${text}\` is not a well-formed decimal value`);
    const [, sign, whole, frac] = m as unknown as [string, string, string, string];
    if (frac.length > 4) throw evaluationError(`too many digits after the decimal in \`${text}\``);
    const magnitude = BigInt(whole) * SCALE + BigInt(frac) * 10n ** BigInt(4 - frac.length);
    const value = sign === '-' ? -magnitude : magnitude;
    if (value < I64_MIN || value > I64_MAX) throw evaluationError('overflow when converting to decimal');
    return new Decimal(value);
  }

  equals(other: ExtensionValue): boolean {
    return other instanceof Decimal && other.scaled === this.scaled;
  }

  compare(other: Decimal): number {
    return this.scaled < other.scaled ? -1 : this.scaled > other.scaled ? 1 : 0;
  }

  toString(): string {
    const neg = this.scaled < 0n;
    const abs = neg ? -this.scaled : this.scaled;
    const frac = (abs % SCALE).toString().padStart(4, '0');
    return `${neg ? '-' : ''}${abs / SCALE}.${frac}`;
  }

  toCedarJson(): { __extn: { fn: string; arg: string } } {
    return { __extn: { fn: 'decimal', arg: this.toString() } };
  }
}
