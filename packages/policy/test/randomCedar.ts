/**
 * A seeded generator of random Cedar authorization cases for differential testing against
 * cedar-wasm: policy sets (permit/forbid mixes, when/unless, templates with links), entities with
 * hierarchies, tags and extension values, and context-heavy requests modelled on livescope, with
 * integers beyond 2^53 and deliberate type errors and overflows.
 */

import { Datetime, Decimal, Duration, IpAddr } from '@livescope/policy';

function callExtensionFunctionForTest(kind: string, text: string): void {
  if (kind === 'ip') IpAddr.parse(text);
  else if (kind === 'decimal') Decimal.parse(text);
  else if (kind === 'datetime') Datetime.parse(text);
  else Duration.parse(text);
}

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = boolean | number | bigint | string | Json[] | { [k: string]: Json };

export interface RandomCase {
  readonly policies: string;
  readonly templates: Record<string, string>;
  readonly links: { templateId: string; newId: string; values: Record<string, { type: string; id: string }> }[];
  readonly entities: Json[];
  readonly principal: { type: string; id: string };
  readonly action: { type: string; id: string };
  readonly resource: { type: string; id: string };
  readonly context: { [k: string]: Json };
}

const NS = 'Livescope';
const ID = `${NS}::Identity`;
const ROLE = `${NS}::Role`;
const RES = `${NS}::Resource`;
const ACT = `${NS}::Action`;
const ACTIONS = ['k8s:deploy', 'k8s:read', 'tickets:read', 'tickets:write', 'secrets:read', 'db:read', 'db:write', 'vault:read', 'tool:invoke', 'console:admin'];
const GROUP: Record<string, string> = { 'k8s:read': 'read', 'tickets:read': 'read', 'secrets:read': 'read', 'db:read': 'read', 'vault:read': 'read', 'console:admin': 'admin' };
const KINDS = ['agent', 'workload', 'service-account', 'ci-job'];
const NAMESPACES = ['pay', 'ops', 'web', 'data'];
const ROLES = ['admin', 'orchestrated-admin', 'deployer', 'reader', 'oncall'];
const APPROVALS = ['secret-retrieval', 'db-write', 'prod-access'];
const TEAMS = ['payments', 'platform', 'search'];
const BIG = [9007199254740993n, -9007199254740993n, 9223372036854775807n, -9223372036854775808n, 4611686018427387904n, 12345678901234567890n % 9223372036854775807n];
const TIME0 = Date.UTC(2026, 0, 15, 8, 0, 0);

export class CaseGenerator {
  private readonly r: () => number;
  private depth = 0;
  constructor(seed: number) {
    this.r = prng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  private chance(p: number): boolean {
    return this.r() < p;
  }

  // ---------- data ----------

  private iso(ms: number): string {
    const d = new Date(ms).toISOString();
    switch (this.int(4)) {
      case 0:
        return d.slice(0, 10);
      case 1:
        return `${d.slice(0, 19)}Z`;
      case 2:
        return d;
      default: {
        const off = this.int(24 * 60) - 12 * 60;
        const sign = off < 0 ? '-' : '+';
        const a = Math.abs(off);
        const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
        return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
      }
    }
  }

  private datetimeText(): string {
    if (this.chance(0.04)) return this.pick(['2024-02-30', '2024-13-01', '2024-01-01T25:00:00Z', '2024-01-01T00:00:00', '2024-01-01T00:00:00+2400', '0000-01-01', '9999-12-31T23:59:59.999Z', '1969-12-31T23:59:59.999Z', '2024-1-01', '']);
    return this.iso(TIME0 + (this.int(2000) - 1000) * 3_600_000 + this.int(3_600_000));
  }

  private durationText(): string {
    if (this.chance(0.04)) return this.pick(['', '-', '1h1d', '1.5h', '9223372036854775807ms', '-9223372036854775808ms', '9223372036854775808ms', '106751991167d', '1d-1h', 'ms']);
    const units = ['d', 'h', 'm', 's', 'ms'];
    let s = this.chance(0.2) ? '-' : '';
    let any = false;
    for (const u of units) {
      if (this.chance(0.4)) {
        s += `${this.int(u === 'd' ? 30 : 100)}${u}`;
        any = true;
      }
    }
    return any ? s : `${this.int(24)}h`;
  }

  private ipText(): string {
    if (this.chance(0.08)) return this.pick(['01.2.3.4', '1.2.3', '1.2.3.4/33', '::ffff:1.2.3.4', '1.2.3.4/', '1.2.3.4/024', 'fe80::1%eth0', ':::', '1::2::3', '256.1.1.1', 'g::1', '::1/129', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7']);
    if (this.chance(0.6)) {
      const o = () => this.pick([0, 1, 10, 127, 192, 224, 239, 255, this.int(256)]);
      const base = `${o()}.${o()}.${o()}.${o()}`;
      return this.chance(0.4) ? `${base}/${this.int(33)}` : base;
    }
    const g = () => this.int(0x10000).toString(16);
    const full = Array.from({ length: 8 }, g);
    const forms = [full.join(':'), `${g()}::${g()}`, '::1', '::', `ff${this.int(16).toString(16)}${this.int(16).toString(16)}::${g()}`, `fe80::${g()}`];
    const base = this.pick(forms);
    return this.chance(0.4) ? `${base}/${this.int(129)}` : base;
  }

  private decimalText(): string {
    if (this.chance(0.06)) return this.pick(['1', '1.', '.5', '1.23456', '-0.5', '922337203685477.5807', '922337203685477.5808', '-922337203685477.5808', '+1.0', '1e3']);
    return `${this.chance(0.3) ? '-' : ''}${this.int(1000)}.${String(this.int(10_000)).slice(0, 1 + this.int(4))}`;
  }

  private extn(fn: string, arg: string): Json {
    return { __extn: { fn, arg } };
  }

  private validExtn(kind: 'ip' | 'decimal' | 'datetime' | 'duration'): Json {
    // Data should parse (cedar-wasm refuses the whole request otherwise); now and then it does not.
    if (this.chance(0.002)) return this.extn(kind, this.pick(['1.2.3', '1.', '2024-02-30', '1h1d']));
    for (;;) {
      const text = kind === 'ip' ? this.ipText() : kind === 'decimal' ? this.decimalText() : kind === 'datetime' ? this.datetimeText() : this.durationText();
      if (validData(kind, text)) return this.extn(kind, text);
    }
  }

  private long(): Json {
    if (this.chance(0.15)) return this.pick(BIG);
    if (this.chance(0.1)) return this.pick([0, -1, 9007199254740991, -9007199254740991, 2 ** 31, -(2 ** 31)]);
    return this.int(200) - 50;
  }

  private entityRef(): { type: string; id: string } {
    switch (this.int(4)) {
      case 0:
        return { type: ID, id: this.pick(['i0', 'i1', 'i2']) };
      case 1:
        return { type: ROLE, id: this.pick(ROLES) };
      case 2:
        return { type: RES, id: this.pick(['r0', 'r1', 'r2']) };
      default:
        return { type: ACT, id: this.pick(ACTIONS) };
    }
  }

  private anyValue(depth = 0): Json {
    switch (this.int(depth > 1 ? 8 : 10)) {
      case 0:
        return this.chance(0.5);
      case 1:
        return this.long();
      case 2:
        return this.pick(['', 'a', 'payments', 'pay', 'x*y', 'ünï', '\\*']);
      case 3:
        return { __entity: this.entityRef() };
      case 4:
        return this.validExtn(this.pick(['ip', 'decimal', 'datetime', 'duration'] as const));
      case 5:
        return { __extn: { fn: 'offset', args: [this.validExtn('datetime'), this.validExtn('duration')] } };
      case 6:
        return this.pick(NAMESPACES);
      case 7:
        return this.int(5);
      case 8:
        return Array.from({ length: this.int(4) }, () => this.anyValue(depth + 1));
      default: {
        const rec: { [k: string]: Json } = {};
        for (const k of ['a', 'b', 'c'].slice(0, this.int(4))) rec[k] = this.anyValue(depth + 1);
        return rec;
      }
    }
  }

  private stringSet(pool: readonly string[]): Json[] {
    return pool.filter(() => this.chance(0.4));
  }

  entities(): Json[] {
    const out: Json[] = [];
    const tags = (): { [k: string]: Json } => {
      const t: { [k: string]: Json } = {};
      if (this.chance(0.6)) t.team = this.pick(TEAMS);
      if (this.chance(0.3)) t.env = this.pick(['prod', 'dev']);
      if (this.chance(0.1)) t.level = this.long();
      return t;
    };
    for (const id of ['i0', 'i1', 'i2']) {
      if (this.chance(0.1)) continue; // sometimes absent: attribute access errors
      const attrs: { [k: string]: Json } = {
        kind: this.pick(KINDS),
        name: `svc-${id}`,
        namespace: this.pick(NAMESPACES),
        owner: this.pick(['alice', 'bob']),
        riskScore: this.chance(0.1) ? this.pick(BIG) : this.int(101),
        status: this.pick(['active', 'disabled']),
      };
      if (this.chance(0.5)) attrs.extra = this.anyValue();
      if (this.chance(0.3)) attrs.manager = { __entity: { type: ID, id: this.pick(['i0', 'i1', 'i2']) } };
      if (this.chance(0.3)) attrs.profile = { level: this.long(), since: this.validExtn('datetime'), net: this.validExtn('ip') };
      if (this.chance(0.2)) delete attrs.owner;
      out.push({ uid: { type: ID, id }, attrs, parents: ROLES.filter(() => this.chance(0.3)).map((r) => ({ type: ROLE, id: r })), tags: tags() });
    }
    // Hierarchies point "upwards" (acyclic); now and then anywhere, so cycles (refused by Cedar) occur too.
    ROLES.forEach((r, i) => {
      if (this.chance(0.2)) return;
      const up = ROLES.slice(i + 1);
      const parent = this.chance(0.005) ? this.pick(ROLES) : up.length > 0 && this.chance(0.4) ? this.pick(up) : undefined;
      out.push({ uid: { type: ROLE, id: r }, attrs: {}, parents: parent ? [{ type: ROLE, id: parent }] : [] });
    });
    for (const id of ['r0', 'r1', 'r2']) {
      const attrs: { [k: string]: Json } = { type: this.pick(['cluster', 'secret', 'db', 'tool']), system: this.pick(['k8s', 'vault', 'pg']) };
      if (this.chance(0.7)) attrs.namespace = this.pick(NAMESPACES);
      if (this.chance(0.3)) attrs.owner = { __entity: { type: ID, id: this.pick(['i0', 'i1', 'i2']) } };
      if (this.chance(0.3)) attrs.expiresAt = this.validExtn('datetime');
      if (this.chance(0.3)) attrs.limit = this.validExtn('decimal');
      const up = ['r0', 'r1', 'r2'].filter((x) => x > id);
      const parent = this.chance(0.005) ? this.pick(['r0', 'r1', 'r2']) : up.length > 0 && this.chance(0.4) ? this.pick(up) : undefined;
      out.push({ uid: { type: RES, id }, attrs, parents: parent ? [{ type: RES, id: parent }] : [], tags: tags() });
    }
    for (const a of ACTIONS) out.push({ uid: { type: ACT, id: a }, attrs: {}, parents: [{ type: ACT, id: `access:${GROUP[a] ?? 'write'}` }] });
    for (const g of ['read', 'write', 'admin']) out.push({ uid: { type: ACT, id: `access:${g}` }, attrs: {}, parents: [] });
    return out;
  }

  context(): { [k: string]: Json } {
    const c: { [k: string]: Json } = {
      now: this.extn('datetime', this.iso(TIME0 + this.int(48) * 3_600_000 + this.int(3_600_000))),
      session: { active: this.chance(0.7), count: this.int(5), mfa: this.chance(0.5), tasks: this.stringSet(['deploy', 'triage', 'rotate']) },
      approvals: this.stringSet(APPROVALS),
      humanApprovals: this.stringSet(APPROVALS),
      riskScore: this.chance(0.1) ? this.pick(BIG) : this.int(101),
      anomalies: this.stringSet(['token-replay', 'geo', 'burst']),
      humanUseDetected: this.chance(0.2),
      releaseWindows: this.stringSet(NAMESPACES),
      incidentNamespaces: this.stringSet(NAMESPACES),
      grant: { jit: this.chance(0.4), roles: this.stringSet(ROLES) },
    };
    if (this.chance(0.5)) c.src = this.validExtn('ip');
    if (this.chance(0.5)) c.score = this.validExtn('decimal');
    if (this.chance(0.3)) c.big = this.pick(BIG);
    if (this.chance(0.3)) c.extra = this.anyValue();
    if (this.chance(0.1)) delete c.session;
    return c;
  }

  // ---------- expressions (Cedar text) ----------

  private str(s: string): string {
    return JSON.stringify(s).replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u{${h}}`);
  }

  private uidText(u: { type: string; id: string }): string {
    return `${u.type}::${this.str(u.id)}`;
  }

  private nest(f: () => string): string {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private deep(): boolean {
    return this.depth > 4;
  }

  longExpr(): string {
    return this.nest(() => {
      const leaf = (): string => {
        switch (this.int(7)) {
          case 0: {
            const v = this.long() as number | bigint;
            return v < 0 ? `(${v})` : `${v}`;
          }
          case 1:
            return 'principal.riskScore';
          case 2:
            return 'context.riskScore';
          case 3:
            return 'context.session.count';
          case 4:
            return this.chance(0.5) ? 'context.big' : 'principal.profile.level';
          case 5:
            return `${this.durExpr()}.${this.pick(['toMilliseconds', 'toSeconds', 'toMinutes', 'toHours', 'toDays'])}()`;
          default:
            return String(this.int(10));
        }
      };
      if (this.deep()) return leaf();
      switch (this.int(8)) {
        case 0:
          return `(${this.longExpr()} ${this.pick(['+', '-', '*'])} ${this.longExpr()})`;
        case 1:
          return `-(${this.longExpr()})`;
        case 2:
          return `(if ${this.boolExpr()} then ${this.longExpr()} else ${this.longExpr()})`;
        case 3:
          return `principal.getTag("level")`;
        default:
          return leaf();
      }
    });
  }

  stringExpr(): string {
    return this.nest(() => {
      switch (this.int(9)) {
        case 0:
          return this.str(this.pick(['payments', 'pay', 'agent', 'ops', '', 'a*b', 'x"y', 'ünï']));
        case 1:
          return `principal.${this.pick(['kind', 'name', 'namespace', 'owner', 'status'])}`;
        case 2:
          return `resource.${this.pick(['type', 'system', 'namespace'])}`;
        case 3:
          return `principal.getTag(${this.str(this.pick(['team', 'env', 'missing']))})`;
        case 4:
          return `resource.getTag("team")`;
        case 5:
          return this.deep() ? '"x"' : `(if ${this.boolExpr()} then ${this.stringExpr()} else ${this.stringExpr()})`;
        case 6:
          return 'principal.manager.namespace';
        default:
          return this.str(this.pick(NAMESPACES));
      }
    });
  }

  entityExpr(): string {
    switch (this.int(8)) {
      case 0:
        return 'principal';
      case 1:
        return 'resource';
      case 2:
        return 'action';
      case 3:
        return 'resource.owner';
      case 4:
        return 'principal.manager';
      default:
        return this.uidText(this.entityRef());
    }
  }

  setExpr(): string {
    return this.nest(() => {
      switch (this.int(9)) {
        case 0:
          return `context.${this.pick(['approvals', 'anomalies', 'releaseWindows', 'incidentNamespaces'])}`;
        case 1:
          return 'context.session.tasks';
        case 2:
          return 'context.grant.roles';
        case 3:
          return `[${Array.from({ length: this.int(4) }, () => this.stringExpr()).join(', ')}]`;
        case 4:
          return `[${Array.from({ length: this.int(3) }, () => this.longExpr()).join(', ')}]`;
        case 5:
          return `[${Array.from({ length: this.int(3) }, () => this.entityExpr()).join(', ')}]`;
        case 6:
          return `[${Array.from({ length: this.int(3) }, () => this.anyExpr()).join(', ')}]`;
        case 7:
          return 'principal.extra';
        default:
          return `[${this.str(this.pick(APPROVALS))}]`;
      }
    });
  }

  dtExpr(): string {
    return this.nest(() => {
      switch (this.deep() ? 0 : this.int(7)) {
        case 0:
          return 'context.now';
        case 1:
          return `datetime(${this.str(this.datetimeText())})`;
        case 2:
          return `${this.dtExpr()}.offset(${this.durExpr()})`;
        case 3:
          return `${this.dtExpr()}.toDate()`;
        case 4:
          return 'resource.expiresAt';
        case 5:
          return 'principal.profile.since';
        default:
          return 'context.now';
      }
    });
  }

  durExpr(): string {
    return this.nest(() => {
      switch (this.deep() ? 0 : this.int(5)) {
        case 0:
          return `duration(${this.str(this.durationText())})`;
        case 1:
          return `${this.dtExpr()}.toTime()`;
        case 2:
          return `${this.dtExpr()}.durationSince(${this.dtExpr()})`;
        default:
          return `duration(${this.str(this.durationText())})`;
      }
    });
  }

  ipExpr(): string {
    return this.chance(0.5) ? `ip(${this.str(this.ipText())})` : this.pick(['context.src', 'principal.profile.net']);
  }

  decExpr(): string {
    return this.chance(0.6) ? `decimal(${this.str(this.decimalText())})` : this.pick(['context.score', 'resource.limit']);
  }

  recordExpr(): string {
    return this.nest(() => {
      switch (this.int(4)) {
        case 0:
          return 'context.session';
        case 1:
          return 'context.grant';
        case 2:
          return `{${['a', 'b', '"c d"'].slice(0, this.int(4)).map((k) => `${k}: ${this.anyExpr()}`).join(', ')}}`;
        default:
          return 'principal.profile';
      }
    });
  }

  anyExpr(): string {
    if (this.deep()) return this.pick(['1', '"a"', 'true', 'principal', 'context.now']);
    switch (this.int(10)) {
      case 0:
        return this.longExpr();
      case 1:
        return this.stringExpr();
      case 2:
        return this.entityExpr();
      case 3:
        return this.setExpr();
      case 4:
        return this.dtExpr();
      case 5:
        return this.durExpr();
      case 6:
        return this.ipExpr();
      case 7:
        return this.decExpr();
      case 8:
        return this.recordExpr();
      default:
        return this.boolExpr();
    }
  }

  boolExpr(): string {
    return `(${this.boolExprBare()})`;
  }

  private boolExprBare(): string {
    return this.nest(() => {
      if (this.deep()) return this.pick(['true', 'false', 'context.session.active', 'context.grant.jit']);
      const cmp = this.pick(['<', '<=', '>', '>=']);
      switch (this.int(34)) {
        case 0:
          return this.pick(['true', 'false']);
        case 1:
          return `context.${this.pick(['session.active', 'session.mfa', 'humanUseDetected', 'grant.jit'])}`;
        case 2:
          return `${this.longExpr()} ${cmp} ${this.longExpr()}`;
        case 3:
          return `${this.longExpr()} ${this.pick(['==', '!='])} ${this.longExpr()}`;
        case 4:
          return `${this.stringExpr()} ${this.pick(['==', '!='])} ${this.stringExpr()}`;
        case 5:
          return `${this.entityExpr()} ${this.pick(['==', '!='])} ${this.entityExpr()}`;
        case 6:
          return `${this.dtExpr()} ${cmp} ${this.dtExpr()}`;
        case 7:
          return `${this.durExpr()} ${cmp} ${this.durExpr()}`;
        case 8:
          return `${this.setExpr()}.contains(${this.anyExpr()})`;
        case 9:
          return `${this.setExpr()}.${this.pick(['containsAll', 'containsAny'])}(${this.setExpr()})`;
        case 10:
          return `${this.setExpr()}.isEmpty()`;
        case 11:
          return `${this.entityExpr()} in ${this.chance(0.5) ? this.entityExpr() : this.setExpr()}`;
        case 12:
          return `${this.pick(['principal', 'resource', 'context', 'principal.profile', 'context.session'])} has ${this.pick(['owner', 'namespace', 'active', 'level', 'session.active', 'profile.level', 'extra', '"c d"'])}`;
        case 13: {
          const pat = Array.from({ length: 1 + this.int(4) }, () => this.pick(['*', 'pa', 'y', '\\*', 'ü', 's', '-'])).join('');
          return `${this.stringExpr()} like "${pat}"`;
        }
        case 14:
          return `${this.entityExpr()} is ${this.pick([ID, RES, ROLE, ACT, 'Other'])}${this.chance(0.3) ? ` in ${this.entityExpr()}` : ''}`;
        case 15:
          return `${this.pick(['principal', 'resource', 'principal.manager'])}.hasTag(${this.str(this.pick(['team', 'env', 'level', 'nope']))})`;
        case 16:
          return `${this.ipExpr()}.${this.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast'])}()`;
        case 17:
          return `${this.ipExpr()}.isInRange(${this.ipExpr()})`;
        case 18:
          return `${this.decExpr()}.${this.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'])}(${this.decExpr()})`;
        case 19:
          return `!${this.boolExpr()}`;
        case 20:
        case 21:
          return `(${this.boolExpr()} && ${this.boolExpr()})`;
        case 22:
          return `(${this.boolExpr()} || ${this.boolExpr()})`;
        case 23:
          return `(if ${this.boolExpr()} then ${this.boolExpr()} else ${this.boolExpr()})`;
        case 24:
          return `${this.anyExpr()} ${this.pick(['==', '!='])} ${this.anyExpr()}`;
        case 25:
          return `${this.pick(['context.releaseWindows', 'context.incidentNamespaces'])}.contains(resource.namespace)`;
        case 26:
          return `principal.getTag("team") == ${this.str(this.pick(TEAMS))}`;
        case 27:
          return `context.now.toTime() ${cmp} duration("${this.int(24)}h")`;
        case 28:
          return `context.now ${cmp} datetime(${this.str(this.datetimeText())})`;
        case 29:
          // Deliberately ill-typed now and then.
          return this.pick([`${this.longExpr()}`, `${this.stringExpr()} < 1`, `${this.recordExpr()}.a`, '"a" + 1', `${this.decExpr()} < ${this.decExpr()}`, `${this.ipExpr()} == 1 || 2`]);
        case 30:
          return `${this.recordExpr()} has a`;
        case 31:
          return `${this.recordExpr()}.${this.pick(['a', 'b', 'active', 'jit'])} == ${this.anyExpr()}`;
        case 32:
          return `${this.anyExpr()} ${cmp} ${this.anyExpr()}`;
        default:
          return `principal in ${this.uidText({ type: ROLE, id: this.pick(ROLES) })}`;
      }
    });
  }

  private scope(): string {
    const principal = this.pick([
      'principal',
      'principal',
      `principal == ${this.uidText({ type: ID, id: this.pick(['i0', 'i1', 'i2']) })}`,
      `principal in ${this.uidText({ type: ROLE, id: this.pick(ROLES) })}`,
      `principal is ${ID}`,
      `principal is ${ID} in ${this.uidText({ type: ROLE, id: this.pick(ROLES) })}`,
    ]);
    const action = this.pick([
      'action',
      'action',
      `action == ${this.uidText({ type: ACT, id: this.pick(ACTIONS) })}`,
      `action in ${this.uidText({ type: ACT, id: `access:${this.pick(['read', 'write', 'admin'])}` })}`,
      `action in [${ACTIONS.filter(() => this.chance(0.3)).map((a) => this.uidText({ type: ACT, id: a })).join(', ')}]`,
    ]);
    const resource = this.pick(['resource', 'resource', `resource == ${this.uidText({ type: RES, id: this.pick(['r0', 'r1', 'r2']) })}`, `resource is ${RES}`, `resource in ${this.uidText({ type: RES, id: this.pick(['r0', 'r1']) })}`]);
    return `${principal}, ${action}, ${resource}`;
  }

  private policy(): string {
    const effect = this.chance(0.5) ? 'permit' : 'forbid';
    const ann = this.chance(0.2) ? `@id("p${this.int(100)}") ` : '';
    const conds = Array.from({ length: this.int(3) }, () => `${this.chance(0.6) ? 'when' : 'unless'} { ${this.boolExpr()} }`).join(' ');
    return `${ann}${effect}(${this.scope()}) ${conds};`;
  }

  next(): RandomCase {
    const n = 1 + this.int(6);
    const base = this.chance(0.5) ? ['permit(principal, action, resource);'] : [];
    const policies = [...base, ...Array.from({ length: n }, () => this.policy())].join('\n');
    const templates: Record<string, string> = {};
    const links: RandomCase['links'] = [];
    if (this.chance(0.2)) {
      templates.t0 = `${this.chance(0.5) ? 'permit' : 'forbid'}(principal == ?principal, action, resource in ?resource) when { ${this.boolExpr()} };`;
      for (let i = 0; i < 1 + this.int(2); i++) {
        links.push({
          templateId: 't0',
          newId: `link${i}`,
          values: { '?principal': { type: ID, id: this.pick(['i0', 'i1', 'i2']) }, '?resource': { type: RES, id: this.pick(['r0', 'r1', 'r2']) } },
        });
      }
    }
    return {
      policies,
      templates,
      links,
      entities: this.entities(),
      principal: { type: ID, id: this.pick(['i0', 'i1', 'i2', 'i0']) },
      action: { type: ACT, id: this.pick(ACTIONS) },
      resource: { type: RES, id: this.pick(['r0', 'r1', 'r2', 'rX']) },
      context: this.context(),
    };
  }
}

/** Whether a data literal parses (checked with this package's parsers; the oracle confirms). */
function validData(kind: string, text: string): boolean {
  try {
    callExtensionFunctionForTest(kind === 'ip' ? 'ip' : kind, text);
    return true;
  } catch {
    return false;
  }
}
