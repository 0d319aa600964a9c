import { ExtensionValue } from './ExtensionValue.js';
import { evaluationError, ownEvaluationError } from './PolicyError.js';

const V6_ALL = (1n << 128n) - 1n;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

function parseV4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let addr = 0;
  for (const p of parts) {
    // Like Rust's std parser: 1-3 digits, no leading zero.
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    addr = addr * 256 + n;
  }
  return addr;
}

function parseGroups(s: string): bigint[] | undefined {
  if (s === '') return [];
  const out: bigint[] = [];
  for (const g of s.split(':')) {
    if (!HEX_GROUP.test(g)) return undefined;
    out.push(BigInt(parseInt(g, 16)));
  }
  return out;
}

/** IPv6 text without embedded IPv4 (Cedar rejects that form before parsing). */
function parseV6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function parsePrefix(s: string, max: number, maxLen: number): number {
  if (s.length > maxLen || !/^[0-9]+$/.test(s) || (s.startsWith('0') && s !== '0')) throw evaluationError(`error parsing prefix \`${s}\``);
  const n = Number(s);
  if (n > max) throw evaluationError(`error parsing prefix: ${n} is larger than the limit ${max}`);
  return n;
}

function countAtLeastTwo(s: string, c: string): boolean {
  const i = s.indexOf(c);
  return i >= 0 && s.indexOf(c, i + 1) >= 0;
}

/** Cedar `ipaddr`: an IPv4 or IPv6 address with a prefix length (32 or 128 for a single address). */
export class IpAddr extends ExtensionValue {
  readonly extensionType = 'ipaddr' as const;

  private constructor(
    readonly version: 4 | 6,
    /** The address as written (not masked): a u32 for IPv4, a u128 for IPv6. */
    readonly address: number | bigint,
    readonly prefix: number,
  ) {
    super();
  }

  /** Parses like Cedar's `ip("…")`, e.g. `10.0.0.1`, `10.0.0.0/8`, `::1`, `fe80::/10`. */
  /** Parses like Cedar; throws a `PolicyError` (code `POLICY_EVALUATION`) naming the problem. */
  static parse(text: string): IpAddr {
    return ownEvaluationError(() => IpAddr.evaluate(text));
  }

  /** Cedar's constructor function as the evaluator runs it (throws the shared evaluation error). */
  static evaluate(text: string): IpAddr {
    // Cedar limits the text to the longest IPv6 CIDR (43 bytes). Non-ASCII text never parses, so
    // counting UTF-16 units decides the same way.
    if (text.length > 43) throw evaluationError(`error parsing IP address from string \`${text}\`: string length is too large`);
    if (countAtLeastTwo(text, ':') && countAtLeastTwo(text, '.')) throw evaluationError(`IPv4 embedded in IPv6 is not accepted: \`${text}\``);
    const slash = text.indexOf('/');
    const addrText = slash < 0 ? text : text.slice(0, slash);
    const v4 = addrText.includes(':') ? undefined : parseV4(addrText);
    if (v4 !== undefined) return new IpAddr(4, v4, slash < 0 ? 32 : parsePrefix(text.slice(slash + 1), 32, 2));
    const v6 = addrText.includes('.') ? undefined : parseV6(addrText);
    if (v6 !== undefined) return new IpAddr(6, v6, slash < 0 ? 128 : parsePrefix(text.slice(slash + 1), 128, 3));
    throw evaluationError(`invalid IP address: ${text}`);
  }

  isIpv4(): boolean {
    return this.version === 4;
  }

  isIpv6(): boolean {
    return this.version === 6;
  }

  isLoopback(): boolean {
    if (this.version === 4) return Math.floor((this.address as number) / 0x100_0000) === 127 && this.prefix >= 8;
    return this.address === 1n && this.prefix >= 128;
  }

  isMulticast(): boolean {
    if (this.version === 4) return Math.floor((this.address as number) / 0x1000_0000) === 0xe && this.prefix >= 4;
    return (this.address as bigint) >> 120n === 0xffn && this.prefix >= 8;
  }

  /** Whether this address or range lies within `range` (false across IP versions). */
  isInRange(range: IpAddr): boolean {
    if (this.version !== range.version) return false;
    if (this.version === 4) {
      const lo = (a: number, p: number): number => a - (a % 2 ** (32 - p));
      const hi = (a: number, p: number): number => lo(a, p) + (2 ** (32 - p) - 1);
      const a = this.address as number;
      const b = range.address as number;
      return lo(b, range.prefix) <= lo(a, this.prefix) && hi(a, this.prefix) <= hi(b, range.prefix);
    }
    const host = (p: number): bigint => (1n << BigInt(128 - p)) - 1n;
    const a = this.address as bigint;
    const b = range.address as bigint;
    const net = (x: bigint, p: number): bigint => x & (V6_ALL ^ host(p));
    const bcast = (x: bigint, p: number): bigint => x | host(p);
    return net(b, range.prefix) <= net(a, this.prefix) && bcast(a, this.prefix) <= bcast(b, range.prefix);
  }

  equals(other: ExtensionValue): boolean {
    return other instanceof IpAddr && other.version === this.version && other.address === this.address && other.prefix === this.prefix;
  }

  /** Address as written, then the prefix, e.g. `10.0.0.1/24`; IPv6 is printed in full (no `::`). */
  toString(): string {
    if (this.version === 4) {
      const a = this.address as number;
      return `${[24, 16, 8, 0].map((s) => Math.floor(a / 2 ** s) % 256).join('.')}/${this.prefix}`;
    }
    const a = this.address as bigint;
    const groups = [];
    for (let i = 7; i >= 0; i--) groups.push(((a >> BigInt(i * 16)) & 0xffffn).toString(16));
    return `${groups.join(':')}/${this.prefix}`;
  }

  toCedarJson(): { __extn: { fn: string; arg: string } } {
    return { __extn: { fn: 'ip', arg: this.toString() } };
  }
}
