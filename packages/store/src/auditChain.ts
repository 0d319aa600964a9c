import { createHash } from 'node:crypto';
import { StoreError } from './StoreError.js';

/**
 * One audit record as the worker hands it over. `at` is any RFC 3339 instant the contracts accept
 * (`Z` or an offset, 0-9 fractional digits); the chain hashes and stores its canonical form.
 */
export interface AuditRecord {
  readonly partition: number;
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly identityId: string | null;
  readonly version: number | null;
  readonly actor: string | null;
  readonly eventId: string | null;
  readonly payload: string;
}

/**
 * Hash format of a row (column `chain_version`):
 * - 1: rows written before migration 3. `at` was hashed as the producer's raw text, so a row whose
 *   instant was not in `toISOString()` form can only be re-verified from the `time` its payload
 *   carries (see `legacyAtCandidates`).
 * - 2: every column hashed in the canonical form below, which is exactly what the table stores.
 */
export const AUDIT_CHAIN_VERSION = 2;
export type AuditChainVersion = 1 | 2;

/**
 * A record in canonical form: what the table holds, column for column, and what the hash covers.
 * Nothing in it changes on a round trip through PostgreSQL.
 */
export interface CanonicalAuditRecord {
  readonly partition: number;
  readonly seq: number;
  /** `at` as integer epoch milliseconds (sub-millisecond digits truncated, offset applied). */
  readonly atMs: number;
  readonly kind: string;
  readonly identityId: string | null;
  readonly version: number | null;
  readonly actor: string | null;
  readonly eventId: string | null;
  readonly payload: string;
}

export interface ChainedAuditRecord extends CanonicalAuditRecord {
  readonly chainVersion: typeof AUDIT_CHAIN_VERSION;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export const GENESIS_HASH = Buffer.alloc(32);

/** A record without a canonical form: poison (the contracts validate instants, so a bug upstream). */
const invalid = (message: string): StoreError => new StoreError('INVALID_AUDIT_RECORD', message);

// RFC 3339 as the contracts' `Instant` accepts it: date, `T`, time, optional fraction of any length, `Z` or ±hh:mm.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * The canonical form of an instant: integer milliseconds since the epoch. Digits below the
 * millisecond are truncated (not rounded: `.9999996` stays in its second), the offset is applied.
 * Parsed by hand rather than by `Date.parse`, whose behaviour outside ISO's simplified format is
 * implementation-defined. PostgreSQL stores the result exactly (it keeps microseconds).
 */
export function canonicalInstantMs(at: string): number {
  const m = RFC3339.exec(at);
  if (!m) throw invalid(`audit instant ${JSON.stringify(at)} is not RFC 3339`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const millis = Number(((m[7] ?? '') + '000').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw invalid(`audit instant ${JSON.stringify(at)} is not a valid date and time`);
  }
  const offsetMin = m[8] === 'Z' ? 0 : (m[8]!.startsWith('-') ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millis);
  return d.getTime() - offsetMin * 60_000;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The canonical form of a text column: the string with every unpaired surrogate and every NUL
 * replaced by U+FFFD. PostgreSQL `text` can hold neither (a commit carrying one fails), and
 * UTF-8 hashing would silently replace a lone surrogate anyway; every other string is itself.
 * Payloads made by `JSON.stringify` never change (it escapes both).
 */
export function canonicalText(s: string): string {
  // Both checks are native and near free on the common text; the exact pattern needs look-around at every character.
  if (isWellFormed(s) && !s.includes('\u0000')) return s;
  return s.replace(NOT_PG_TEXT, '\uFFFD');
}

// ES2024 (Node >= 20), not in the ES2023 lib this project compiles against.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
// A high surrogate not followed by a low one, a low one not preceded by a high one, or NUL.
const NOT_PG_TEXT = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/g;

const canonicalNullableText = (s: string | null): string | null => (s === null ? null : canonicalText(s));

function canonicalVersion(v: number | null): number | null {
  if (v !== null && !Number.isSafeInteger(v)) throw invalid(`audit version ${v} is not an integer`);
  return v;
}

/** The record as the table stores it and the hash covers it. */
export function canonicalRecord(r: AuditRecord): CanonicalAuditRecord {
  return {
    partition: r.partition,
    seq: r.seq,
    atMs: canonicalInstantMs(r.at),
    kind: canonicalText(r.kind),
    identityId: canonicalNullableText(r.identityId),
    version: canonicalVersion(r.version),
    actor: canonicalNullableText(r.actor),
    eventId: canonicalNullableText(r.eventId),
    payload: canonicalText(r.payload),
  };
}

/** Chain format 2: hash = sha256(prev_hash || JSON [2, partition, seq, atMs, kind, identityId, version, actor, eventId, payload]). */
export function auditHash(prevHash: Buffer, r: CanonicalAuditRecord): Buffer {
  const canonical = JSON.stringify([AUDIT_CHAIN_VERSION, r.partition, r.seq, r.atMs, r.kind, r.identityId, r.version, r.actor, r.eventId, r.payload]);
  return createHash('sha256').update(prevHash).update(canonical).digest();
}

/** Chain format 1 (rows from before migration 3): the columns with `at` as the text it was written with. */
export function auditHashV1(prevHash: Buffer, r: AuditRecord): Buffer {
  const canonical = JSON.stringify([r.partition, r.seq, r.at, r.kind, r.identityId, r.version, r.actor, r.eventId, r.payload]);
  return createHash('sha256').update(prevHash).update(canonical).digest();
}

/**
 * The texts a format-1 row's `at` may have been hashed as: `toISOString()` of the stored instant
 * (what the engine writes for changes, revocations and alerts), and, for a broadcast event's row,
 * the raw `time` in its payload when that denotes the same millisecond as the column (producers
 * may write `Z` without milliseconds, offsets or microseconds). `storedMs` is the column truncated
 * to the millisecond.
 */
export function legacyAtCandidates(storedMs: number, payload: string): string[] {
  const iso = new Date(storedMs).toISOString();
  const out = [iso];
  let time: unknown;
  try {
    time = (JSON.parse(payload) as { time?: unknown } | null)?.time;
  } catch {
    return out;
  }
  if (typeof time !== 'string' || time === iso) return out;
  try {
    // PostgreSQL rounds beyond microseconds where the canonical form truncates: allow 1 ms.
    if (Math.abs(canonicalInstantMs(time) - storedMs) <= 1) out.push(time);
  } catch {
    // not an instant: the ISO form is the only candidate
  }
  return out;
}

/** The tail of one partition's chain: what the next record links to. */
export interface ChainTail {
  seq: number;
  hash: Buffer;
}

/** Chains records onto `tail` in format 2, each in its canonical form. */
export function chain(tail: ChainTail, records: readonly Omit<AuditRecord, 'seq'>[]): ChainedAuditRecord[] {
  const out: ChainedAuditRecord[] = [];
  let { seq, hash } = tail;
  for (const r of records) {
    seq += 1;
    const rec = canonicalRecord({ ...r, seq });
    const next = auditHash(hash, rec);
    out.push({ ...rec, chainVersion: AUDIT_CHAIN_VERSION, prevHash: hash, hash: next });
    hash = next;
  }
  return out;
}
