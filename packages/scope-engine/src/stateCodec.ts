import { LivescopeError, markErrorClass } from '@livescope/errors';
import type { Access, IdentityId, IdentityKind, IdentityStatus } from '@livescope/contracts';
import type { Globals } from './Globals.js';
import { NO_RECORD, NONE, type IdentityState, type Perm, type ScopeEntry } from './IdentityState.js';
import { idHash } from './idHash.js';
import type { PermInterner } from './PermInterner.js';
import type { PublishedPolicies } from './ScopeEngine.js';

/**
 * Compact JSON forms of engine state for the store. Permissions are written once per grant and
 * referenced by key from the scope, and re-interned on load. Versioned (`v`) so a later layout can
 * still read older rows.
 */
type PermJson = [action: string, resource: string, access: Access, resourceType?: string | null, system?: string | null, namespace?: string | null, labels?: Record<string, string> | null];

interface IdentityJson {
  /**
   * 3: adds `at` (attested), `lc` (lifecycleAt), a session's attested flag, an approval's human flag
   * and a scope entry's session binding. 2: `tb` and `re` hold 53-bit hashes (numbers); 1 held the id
   * strings (read, then hashed). Older rows read as attested identities and sessions (they were
   * written before producers were told apart) and unverified approvals.
   */
  v: 1 | 2 | 3;
  at?: 0 | 1;
  lc?: number;
  id: string;
  st: IdentityStatus;
  k: IdentityKind;
  n: string;
  ns: string;
  o: string;
  l: Record<string, string>;
  c: number;
  ver: number;
  clk: number;
  g: [grantId: string, role: string, at: number, perms: PermJson[]][];
  j: [grantId: string, expiresAt: number, sessionId: string | null, at: number, perms: PermJson[]][];
  s: [sessionId: string, task: string | null, mfa: 0 | 1, tokenId: string | null, system: string, startedAt: number, expiresAt: number | null, attested?: 0 | 1][];
  a: [approvalId: string, escalation: string, sessionId: string | null, approvedBy: string, expiresAt: number, human?: 0 | 1][];
  an: [anomalyId: string, kind: string, severity: string, expiresAt: number][];
  le: [leaseId: string, secretPath: string, system: string, sessionId: string | null, expiresAt: number][];
  r: number;
  ra: number;
  hu: number;
  tb: (number | string)[];
  re: (number | string)[];
  sc: [key: string, validUntil: number | null, grants: string[], sessions?: string[]][];
  w: number | null;
  /** When a snapshot is due (absent: none pending, and in rows written before snapshots were spaced). */
  sd?: number;
  u: Record<string, number>;
  xr: string[];
}

const permJson = (p: Perm): PermJson => {
  const out: PermJson = [p.action, p.resource, p.access];
  if (p.resourceType !== undefined || p.system !== undefined || p.namespace !== undefined || p.labels !== undefined) out.push(p.resourceType ?? null, p.system ?? null, p.namespace ?? null, p.labels ?? null);
  return out;
};

const permFrom = (interner: PermInterner, j: PermJson): Perm =>
  interner.intern({ action: j[0], resource: j[1], access: j[2], resourceType: j[3] ?? undefined, system: j[4] ?? undefined, namespace: j[5] ?? undefined, labels: j[6] ?? undefined });

/**
 * JSON of objects shared by many identities (interned labels, the empty list): encoded once.
 * Per-identity parts are not cached: a cache entry per identity would cost as much memory as the
 * identity's state itself.
 */
const sharedJson = new WeakMap<object, string>();
function part<T extends object>(value: T, encode: (v: T) => unknown): string {
  if (value === NONE || Object.isFrozen(value)) {
    let json = sharedJson.get(value);
    if (json === undefined) sharedJson.set(value, (json = JSON.stringify(encode(value))));
    return json;
  }
  return JSON.stringify(encode(value));
}
const same = <T>(v: T): T => v;

/** The JSON text of an interned permission, written once: identities that share a role share it. */
const permTexts = new WeakMap<Perm, string>();
function permText(p: Perm): string {
  let text = permTexts.get(p);
  if (text === undefined) permTexts.set(p, (text = JSON.stringify(permJson(p))));
  return text;
}
/** A list written element by element (no intermediate arrays): the grants, and their permissions as shared texts. */
function listText<T>(xs: readonly T[], encode: (x: T) => string): string {
  if (xs.length === 0) return '[]';
  let text = '[';
  for (let i = 0; i < xs.length; i++) text += (i === 0 ? '' : ',') + encode(xs[i]!);
  return `${text}]`;
}
const num = (n: number | null): string => (n === null ? 'null' : String(n));
const str = JSON.stringify;

/** The row text of an identity state: the layout of `IdentityJson`, written field by field. */
export function encodeIdentity(s: IdentityState): string {
  return (
    `{"v":3,"id":${str(s.id)},"st":${str(s.status)},"k":${str(s.kind)},"n":${str(s.name)},"ns":${str(s.namespace)},"o":${str(s.owner)},"l":${part(s.labels, same)}` +
    `,"at":${s.attested ? 1 : 0},"lc":${num(s.lifecycleAt)},"c":${num(s.createdAt)},"ver":${num(s.version)},"clk":${num(s.clock)}` +
    `,"g":${listText(s.grants, (g) => `[${str(g.grantId)},${str(g.role)},${num(g.at)},${listText(g.perms, permText)}]`)}` +
    `,"j":${listText(s.jit, (g) => `[${str(g.grantId)},${num(g.expiresAt)},${g.sessionId === undefined ? 'null' : str(g.sessionId)},${num(g.at)},${listText(g.perms, permText)}]`)}` +
    `,"s":${part(s.sessions, (xs) => xs.map((x) => [x.sessionId, x.task ?? null, x.mfa ? 1 : 0, x.tokenId ?? null, x.system, x.startedAt, x.expiresAt ?? null, x.attested ? 1 : 0]))}` +
    `,"a":${part(s.approvals, (xs) => xs.map((x) => [x.approvalId, x.escalation, x.sessionId ?? null, x.approvedBy, x.expiresAt, x.human ? 1 : 0]))}` +
    `,"an":${part(s.anomalies, (xs) => xs.map((x) => [x.anomalyId, x.kind, x.severity, x.expiresAt]))}` +
    `,"le":${part(s.leases, (xs) => xs.map((x) => [x.leaseId, x.secretPath, x.system, x.sessionId ?? null, x.expiresAt]))}` +
    `,"r":${num(s.riskScore)},"ra":${num(s.riskAt)},"hu":${num(s.humanUseUntil)}` +
    `,"tb":${part(s.tombstones, same)},"re":${part(s.recentEventIds, same)}` +
    `,"sc":${part(s.scope, (es) => es.map((e) => (e.sessions === undefined ? [e.perm.key, e.validUntil, e.grants] : [e.perm.key, e.validUntil, e.grants, e.sessions])))}` +
    `,"w":${num(s.wakeAt)}${s.snapshotAt === null ? '' : `,"sd":${s.snapshotAt}`},"u":${str(s.lastUsed)},"xr":${part(s.excessReported, same)}}`
  );
}

/** A stored state row this version cannot read: fatal (stop rather than run on a partial state). */
export class StateDecodeError extends LivescopeError<'CORRUPT_STATE'> {
  constructor(message: string) {
    super('CORRUPT_STATE', 'fatal', message);
  }
}
markErrorClass(StateDecodeError, 'StateDecodeError');

/** Ring entries as hashes: v2 rows hold them, v1 rows held the ids themselves. */
function hashes(xs: readonly (number | string)[]): readonly number[] {
  if (xs.length === 0) return NONE;
  return xs.every((x) => typeof x === 'number') ? (xs) : xs.map((x) => (typeof x === 'number' ? x : idHash(x)));
}

/** Maps a decoded list, sharing the empty list (most of an identity's lists are empty). */
function list<J, T>(xs: readonly J[], f: (x: J) => T): readonly T[] {
  return xs.length === 0 ? NONE : xs.map(f);
}

export function decodeIdentity(text: string, interner: PermInterner): IdentityState {
  const j = JSON.parse(text) as IdentityJson;
  if (j.v !== 1 && j.v !== 2 && j.v !== 3) throw new StateDecodeError(`identity state layout v${String(j.v)} is not supported by this version`);
  const grants = list(j.g, ([grantId, role, at, perms]) => ({ grantId, role: interner.text(role), at, perms: perms.map((p) => permFrom(interner, p)) }));
  const jit = list(j.j, ([grantId, expiresAt, sessionId, at, perms]) => ({ grantId, expiresAt, sessionId: sessionId ?? undefined, at, perms: perms.map((p) => permFrom(interner, p)) }));
  const byKey = new Map<string, Perm>();
  const grantIds = new Map<string, string>();
  for (const g of grants) {
    grantIds.set(g.grantId, g.grantId);
    for (const p of g.perms) byKey.set(p.key, p);
  }
  for (const g of jit) {
    grantIds.set(g.grantId, g.grantId);
    for (const p of g.perms) byKey.set(p.key, p);
  }
  const scope: ScopeEntry[] = [];
  for (const [key, validUntil, ids, sessions] of j.sc) {
    const perm = byKey.get(key);
    if (perm) scope.push({ perm, validUntil, grants: ids.map((id) => grantIds.get(id) ?? id), sessions });
  }
  // Usage is keyed by permission key: share the interned key strings.
  let lastUsed: Record<string, number> = NO_RECORD;
  for (const k in j.u) {
    if (lastUsed === NO_RECORD) lastUsed = {};
    lastUsed[byKey.get(k)?.key ?? k] = j.u[k]!;
  }
  return {
    id: j.id as IdentityId,
    status: j.st,
    kind: interner.text(j.k) as IdentityKind,
    name: j.n === j.id ? j.id : j.n,
    namespace: interner.text(j.ns),
    owner: interner.text(j.o),
    labels: interner.labels(j.l),
    attested: j.at === undefined ? true : j.at === 1,
    lifecycleAt: j.lc ?? j.c,
    createdAt: j.c,
    version: j.ver,
    clock: j.clk,
    grants,
    jit,
    sessions: list(j.s, ([sessionId, task, mfa, tokenId, system, startedAt, expiresAt, attested]) => ({ sessionId, task: task ?? undefined, mfa: mfa === 1, tokenId: tokenId ?? undefined, system: interner.text(system), startedAt, expiresAt: expiresAt ?? undefined, attested: attested === undefined || attested === 1 })),
    approvals: list(j.a, ([approvalId, escalation, sessionId, approvedBy, expiresAt, human]) => ({ approvalId, escalation: interner.text(escalation), sessionId: sessionId ?? undefined, approvedBy, expiresAt, human: human === 1 })),
    anomalies: list(j.an, ([anomalyId, kind, severity, expiresAt]) => ({ anomalyId, kind: interner.text(kind), severity: interner.text(severity), expiresAt })),
    leases: list(j.le, ([leaseId, secretPath, system, sessionId, expiresAt]) => ({ leaseId, secretPath, system: interner.text(system), sessionId: sessionId ?? undefined, expiresAt })),
    riskScore: j.r,
    riskAt: j.ra,
    humanUseUntil: j.hu,
    tombstones: hashes(j.tb),
    recentEventIds: hashes(j.re),
    scope: scope.length === 0 ? NONE : scope,
    wakeAt: j.w,
    snapshotAt: j.sd ?? null,
    lastUsed,
    excessReported: j.xr.length === 0 ? NONE : j.xr,
  };
}

interface GlobalsJson {
  v: 1;
  /** Incident toggle times; absent in rows written before they were kept. */
  toggles?: [string, number][];
  windows: [string, { windowId: string; namespace: string; startsAt: number; endsAt: number; signedBy: string }][];
  incidents: [string, { incidentId: string; namespace: string }][];
  orders: [string, Globals['orders'] extends ReadonlyMap<string, infer O> ? O : never][];
  lifted: string[];
  recent: string[];
}

export function encodeGlobals(g: Globals): string {
  const j: GlobalsJson = { v: 1, windows: [...g.windows], incidents: [...g.incidents], orders: [...g.orders], lifted: [...g.lifted], recent: [...g.recentEventIds], toggles: [...g.incidentToggles] };
  return JSON.stringify(j);
}

export function decodeGlobals(text: string): Globals {
  const j = JSON.parse(text) as GlobalsJson;
  if (j.v !== 1) throw new StateDecodeError(`globals layout v${String(j.v)} is not supported by this version`);
  return { windows: new Map(j.windows), incidents: new Map(j.incidents), orders: new Map(j.orders), lifted: j.lifted, recentEventIds: j.recent, incidentToggles: new Map(j.toggles ?? []) };
}

export const encodePolicies = (p: PublishedPolicies): string => JSON.stringify(p);
export const decodePolicies = (text: string): PublishedPolicies => JSON.parse(text) as PublishedPolicies;
