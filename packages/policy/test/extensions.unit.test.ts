import { describe, expect, it } from 'vitest';
import { cedarWasm as wasm, compilePolicySet, Datetime, Decimal, Duration, EntityMap, EntityUid, IpAddr } from '@livescope/policy';
import { prng } from './randomCedar.js';

/**
 * The extension-type parsers and methods against cedar-wasm on odd inputs: each string becomes one
 * policy (`when { <expr> }`), and the satisfied and erroring policy sets must be equal.
 */
const seed = Number(process.env.POLICY_FUZZ_SEED ?? 99);
const r = prng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const fuzz = (alphabet: string, max: number): string => Array.from({ length: Math.floor(r() * max) }, () => pick([...alphabet])).join('');
const lit = (s: string): string => JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u{${h}}`);

function agree(conditions: readonly string[]): { satisfied: number; errors: number } {
  const text = conditions.map((c) => `permit(principal, action, resource) when { ${c} };`).join('\n');
  const req = { principal: { type: 'P', id: 'p' }, action: { type: 'A', id: 'a' }, resource: { type: 'R', id: 'r' } };
  const answer = wasm.isAuthorized({ ...req, context: {}, entities: [], policies: { staticPolicies: text } });
  if (answer.type === 'failure') throw new Error(answer.errors.map((e) => e.message).join('; '));
  const mine = compilePolicySet({ policies: text }).isAuthorized({ principal: new EntityUid('P', 'p'), action: new EntityUid('A', 'a'), resource: new EntityUid('R', 'r') }, new EntityMap());
  const sort = (xs: readonly string[]): string[] => [...xs].sort();
  const theirs = { reason: sort(answer.response.diagnostics.reason), errors: sort(answer.response.diagnostics.errors.map((e) => e.policyId)) };
  const ours = { reason: sort(mine.reason), errors: sort(mine.errors) };
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    const diff = [...new Set([...ours.reason, ...ours.errors].filter((id) => !theirs.reason.includes(id) && !theirs.errors.includes(id)))];
    const idx = (id: string): string => conditions[Number(id.slice(6))] ?? id;
    expect({ ours, theirs, first: diff.slice(0, 3).map(idx) }).toEqual({ ours: theirs, theirs, first: [] });
  }
  return { satisfied: theirs.reason.length, errors: theirs.errors.length };
}

function canonical<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

describe(`extension types against cedar-wasm (seed ${seed})`, () => {
  it('ip: parsing, equality and every method', () => {
    const strings = Array.from({ length: 400 }, () =>
      pick([
        () => fuzz('0123456789./', 20),
        () => fuzz('0123456789abcdefABCDEF:/.', 30),
        () => `${Math.floor(r() * 300)}.${Math.floor(r() * 300)}.${Math.floor(r() * 300)}.${Math.floor(r() * 300)}${r() < 0.5 ? `/${Math.floor(r() * 40)}` : ''}`,
        () => `${pick(['::', 'fe80::', 'ff02::', '::ffff:', '1:2:3:4:5:6:7:8', '2001:db8::'])}${fuzz('0123456789abcdef', 4)}${r() < 0.5 ? `/${Math.floor(r() * 140)}` : ''}`,
        () => pick(['127.0.0.1', '127.0.0.1/8', '127.0.0.1/7', '::1', '::1/127', '224.0.0.1/4', '224.0.0.1/3', 'ff00::/8', 'ff00::/7', '0.0.0.0/0', '::/0', '01.2.3.4', '1.2.3.4/032', '1.2.3.4/', '::ffff:1.2.3.4', ':', '1::2::3']),
      ])(),
    );
    const conds = strings.flatMap((s) => {
      const c = canonical(() => IpAddr.parse(s));
      const range = pick(['10.0.0.0/8', '0.0.0.0/0', '127.0.0.0/8', '::/0', 'fe80::/10', '224.0.0.0/4', '1.2.3.0/24']);
      return [
        `ip(${lit(s)}).isIpv4()`,
        `ip(${lit(s)}).isLoopback()`,
        `ip(${lit(s)}).isMulticast()`,
        `ip(${lit(s)}).isInRange(ip("${range}"))`,
        `ip("${range}").isInRange(ip(${lit(s)}))`,
        ...(c ? [`ip(${lit(s)}) == ip(${lit(c.toString())})`] : []),
      ];
    });
    const { satisfied, errors } = agree(conds);
    expect(satisfied).toBeGreaterThan(50);
    expect(errors).toBeGreaterThan(50);
  });

  it('decimal: parsing and comparisons', () => {
    const strings = Array.from({ length: 500 }, () =>
      pick([
        () => fuzz('0123456789.-', 12),
        () => `${r() < 0.3 ? '-' : ''}${fuzz('0123456789', 16)}.${fuzz('0123456789', 6)}`,
        () => pick(['922337203685477.5807', '922337203685477.5808', '-922337203685477.5808', '-922337203685477.5809', '-0.0', '0.0000', '00.1', '1.00000']),
      ])(),
    );
    const conds = strings.flatMap((s) => {
      const c = canonical(() => Decimal.parse(s));
      const other = pick(['0.0', '-1.5', '100.0001', '-0.0001']);
      return [
        `decimal(${lit(s)}).lessThan(decimal("${other}"))`,
        `decimal(${lit(s)}).greaterThanOrEqual(decimal("${other}"))`,
        ...(c ? [`decimal(${lit(s)}) == decimal(${lit(c.toString())})`] : []),
      ];
    });
    agree(conds);
  });

  it('datetime and duration: parsing, arithmetic and conversions', () => {
    const dts = Array.from({ length: 400 }, () =>
      pick([
        () => fuzz('0123456789-:TZ.+', 30),
        () => `${String(Math.floor(r() * 10000)).padStart(4, '0')}-${String(Math.floor(r() * 14)).padStart(2, '0')}-${String(Math.floor(r() * 33)).padStart(2, '0')}`,
        () =>
          `${String(Math.floor(r() * 10000)).padStart(4, '0')}-0${1 + Math.floor(r() * 9)}-${10 + Math.floor(r() * 19)}T${String(Math.floor(r() * 26)).padStart(2, '0')}:${String(Math.floor(r() * 62)).padStart(2, '0')}:${String(Math.floor(r() * 62)).padStart(2, '0')}${pick(['Z', '.123Z', '+0130', '-2359', '+2400', '.5Z', ''])}`,
        () => pick(['0000-01-01', '9999-12-31T23:59:59.999Z', '2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '1969-12-31T23:59:59.999Z']),
      ])(),
    );
    const durs = Array.from({ length: 250 }, () =>
      pick([
        () => fuzz('0123456789dhms-', 14),
        () => `${r() < 0.3 ? '-' : ''}${Math.floor(r() * 1e6)}d${Math.floor(r() * 100)}h${Math.floor(r() * 100)}m${Math.floor(r() * 100)}s${Math.floor(r() * 1000)}ms`,
        () => pick(['9223372036854775807ms', '-9223372036854775808ms', '9223372036854775808ms', '106751991167d', '106751991168d', '1h1d', '']),
      ])(),
    );
    const conds = [
      ...dts.flatMap((s) => {
        const c = canonical(() => Datetime.parse(s));
        return [
          `datetime(${lit(s)}).toTime() < duration("12h")`,
          `datetime(${lit(s)}).toDate() <= datetime("2000-01-01")`,
          `datetime(${lit(s)}).durationSince(datetime("1970-01-01")).toDays() > 10000`,
          ...(c ? [`datetime(${lit(s)}) == datetime("1970-01-01").offset(duration("${c.ms}ms"))`] : []),
        ];
      }),
      ...durs.flatMap((s) => {
        const c = canonical(() => Duration.parse(s));
        return [
          `duration(${lit(s)}).toHours() > 100`,
          `duration(${lit(s)}).toSeconds() < -5`,
          `datetime("2024-01-01").offset(duration(${lit(s)})) > datetime("2024-01-01")`,
          `datetime("1970-01-01").offset(duration(${lit(s)})).toDate() < datetime("1970-01-01")`,
          ...(c ? [`duration(${lit(s)}) == duration("${c.ms}ms")`] : []),
        ];
      }),
    ];
    agree(conds);
  });
});
