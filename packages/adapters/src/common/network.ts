/**
 * IP address arithmetic for the network facts of credential uses (pure: no `node:net`). Addresses
 * are parsed into 128-bit big integers (IPv4 as IPv4-mapped IPv6), so one CIDR matcher serves both.
 */

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let n = 0n;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    n = (n << 8n) | BigInt(o);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let text = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':') || text.length > 45) return undefined;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const v4 = parseV4(text.slice(lastColon + 1));
  if (v4 !== undefined) {
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    text = `${text.slice(0, lastColon + 1)}0`;
    if (text.endsWith('::0')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  if (tail.length && v4 !== undefined) {
    // The embedded IPv4 replaced the last group written as 0; drop it.
    if (halves.length === 2 && rest.length) rest.pop();
    else if (halves.length === 1) head.pop();
  }
  const fill = 8 - head.length - rest.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest, ...tail];
  if (all.length !== 8) return undefined;
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(g);
  return n;
}

const MAPPED = 0xffffn << 32n;

/** An address as a 128-bit number (IPv4 mapped into ::ffff:0:0/96), or undefined when it is not an IP. */
export function parseIp(s: string): { value: bigint; v4: boolean } | undefined {
  const t = s.trim();
  const v4 = parseV4(t);
  if (v4 !== undefined) return { value: MAPPED | v4, v4: true };
  const v6 = parseV6(t);
  if (v6 === undefined) return undefined;
  return { value: v6, v4: (v6 >> 32n) === 0xffffn };
}

export const isIp = (s: string | undefined | null): s is string => typeof s === 'string' && parseIp(s) !== undefined;

export interface Cidr {
  readonly text: string;
  readonly base: bigint;
  /** Prefix length in the 128-bit space. */
  readonly bits: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address. Throws a RangeError naming the text when it is not one. */
export function parseCidr(text: string): Cidr {
  const [addr, len] = text.trim().split('/');
  const ip = parseIp(addr ?? '');
  if (!ip) throw new RangeError(`${text} is not an IP address or CIDR block`);
  const max = ip.v4 ? 32 : 128;
  const n = len === undefined ? max : Number(len);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${text}: prefix length must be 0-${max}`);
  const bits = ip.v4 ? 96 + n : n;
  const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
  return { text, base: ip.value & mask, bits };
}

export function inCidr(ip: bigint, c: Cidr): boolean {
  if (c.bits === 0) return true;
  const shift = BigInt(128 - c.bits);
  return ip >> shift === c.base >> shift;
}

/** Addresses that never leave a platform's own networks: private, loopback, link-local, CGNAT, unique-local. */
export const PRIVATE_NETWORKS: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'].map(parseCidr);

/** Whether an address is in one of the networks (private ones by default). */
export function inNetworks(ip: string, networks: readonly Cidr[] = PRIVATE_NETWORKS): boolean {
  const p = parseIp(ip);
  return p !== undefined && networks.some((c) => inCidr(p.value, c));
}

/**
 * The network an address belongs to, for "one credential from two networks": the /24 of an IPv4
 * address, the /48 of an IPv6 one (a site). Addresses of one NAT pool or one site compare equal.
 */
export function networkOf(ip: string): string | undefined {
  const p = parseIp(ip);
  if (!p) return undefined;
  if (p.v4) {
    const v = Number(p.value & 0xffffffffn);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.0/24`;
  }
  const g = (p.value >> 80n).toString(16).padStart(12, '0');
  return `${g.slice(0, 4)}:${g.slice(4, 8)}:${g.slice(8, 12)}::/48`;
}
