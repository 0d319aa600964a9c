import { PolicyError, PolicyErrorCode } from './PolicyError.js';

/** A JSON value where integers beyond ±(2^53 - 1) are exact `bigint`s. */
export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [key: string]: ExactJson };

// Any run of 16+ digits may be an integer beyond 2^53; without one, JSON.parse is exact.
const LONG_DIGITS = /[0-9]{16}/;

/**
 * `JSON.parse` that keeps big integers exact (Cedar Longs are 64-bit; `JSON.parse` rounds beyond
 * 2^53). Safe integers and non-integers stay numbers. Objects get a
 * null prototype so a `__proto__` key is plain data.
 */
export function parseExactJson(text: string): ExactJson {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as ExactJson;
  return new ExactJsonParser(text).parseDocument();
}

class ExactJsonParser {
  #i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): ExactJson {
    const v = this.value();
    this.ws();
    if (this.#i !== this.s.length) this.fail('unexpected trailing characters');
    return v;
  }

  private fail(msg: string): never {
    throw new PolicyError(PolicyErrorCode.data, `invalid JSON at offset ${this.#i}: ${msg}`);
  }

  private ws(): void {
    const s = this.s;
    let i = this.#i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.#i = i;
  }

  private value(): ExactJson {
    this.ws();
    const c = this.s[this.#i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.number();
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.#i)) this.fail(`expected ${word}`);
    this.#i += word.length;
    return v;
  }

  private object(): ExactJson {
    this.#i++;
    const out = Object.create(null) as Record<string, ExactJson>;
    this.ws();
    if (this.s[this.#i] === '}') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.#i] !== '"') this.fail('expected a string key');
      const k = this.string();
      this.ws();
      if (this.s[this.#i] !== ':') this.fail("expected ':'");
      this.#i++;
      out[k] = this.value();
      this.ws();
      const c = this.s[this.#i++];
      if (c === '}') return out;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(): ExactJson {
    this.#i++;
    const out: ExactJson[] = [];
    this.ws();
    if (this.s[this.#i] === ']') {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.#i++];
      if (c === ']') return out;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.#i;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
      } else {
        i++;
      }
    }
    this.#i = i + 1;
    const raw = s.slice(start, i + 1);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private number(): number | bigint {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.#i, this.#i + 400));
    if (!m) this.fail('unexpected character');
    this.#i += m[0].length;
    if (m[1] !== undefined || m[2] !== undefined) return Number(m[0]);
    const n = Number(m[0]);
    return Number.isSafeInteger(n) ? n : BigInt(m[0]);
  }
}
