import { auditHash, auditHashV1, legacyAtCandidates, AUDIT_CHAIN_VERSION, GENESIS_HASH } from './auditChain.js';

/** One row of `audit_log` as read back for verification. */
export interface StoredAuditRow {
  readonly partition: number;
  readonly seq: number;
  /** Column `chain_version`: 1 (before migration 3) or 2. */
  readonly chainVersion: number;
  /** The stored instant in epoch milliseconds, floored (exact for format 2, which stores milliseconds). */
  readonly atMs: number;
  readonly kind: string;
  readonly identityId: string | null;
  readonly version: number | null;
  readonly actor: string | null;
  readonly eventId: string | null;
  readonly payload: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/**
 * A chain head some trusted party vouches for: a worker's signed `AuditHead` whose signature the
 * caller has checked (see `readAuditHeads`). The chain must contain `hash` at `seq`.
 */
export interface AuditHeadRef {
  readonly seq: number;
  /** Hex sha256 of the row at `seq`. */
  readonly hash: string;
  /** Who vouched and when, for the report (e.g. `worker w1 at 2026-…, offset 12`). */
  readonly source?: string;
}

/**
 * - `missing`: a sequence number is absent (rows deleted from the middle or the start);
 * - `broken-link`: a row's prev_hash is not its predecessor's hash;
 * - `tampered`: a row's hash does not match its columns;
 * - `head-mismatch`: a signed head names this seq with another hash (the chain was rewritten or
 *   forked after the head was published: rows removed, then the worker appended new ones);
 * - `tail-missing`: a signed head names a seq beyond the last row (the tail was removed, or an
 *   older backup restored).
 */
export type AuditProblemKind = 'missing' | 'broken-link' | 'tampered' | 'head-mismatch' | 'tail-missing';

export interface AuditProblem {
  readonly partition: number;
  /** The first sequence number that does not verify. */
  readonly seq: number;
  readonly problem: AuditProblemKind;
  /** One sentence for a responder. */
  readonly detail: string;
  /** The signed head involved (`head-mismatch`, `tail-missing`). */
  readonly head?: AuditHeadRef;
}

/**
 * Verifies one partition's chain row by row (rows in seq order; constant memory besides the
 * heads): links, hashes, and every given head against the row at its seq. Pure.
 * The first problem sticks: `push` returns it from then on, and `finish` too.
 */
export class PartitionChainVerifier {
  private readonly heads: AuditHeadRef[];
  private nextHead = 0;
  private prev: { seq: number; hash: Buffer } = { seq: 0, hash: GENESIS_HASH };
  private problem: AuditProblem | undefined;
  /** Rows verified so far (before any problem). */
  rows = 0;
  /** Heads matched against a row so far. */
  headsMatched = 0;

  constructor(
    readonly partition: number,
    heads: readonly AuditHeadRef[] = [],
  ) {
    this.heads = heads.filter((h) => h.seq > 0).sort((a, b) => a.seq - b.seq || a.hash.localeCompare(b.hash));
  }

  get lastSeq(): number {
    return this.prev.seq;
  }

  push(r: StoredAuditRow): AuditProblem | undefined {
    if (this.problem) return this.problem;
    const p = this.partition;
    const expected = this.prev.seq + 1;
    if (r.seq !== expected) return this.fail({ partition: p, seq: expected, problem: 'missing', detail: `row ${expected} is missing (the next row is ${r.seq})` });
    if (!r.prevHash.equals(this.prev.hash)) return this.fail({ partition: p, seq: r.seq, problem: 'broken-link', detail: `row ${r.seq} does not link to row ${this.prev.seq}` });
    if (!hashMatches(this.prev.hash, r)) {
      const why = r.chainVersion === 1 || r.chainVersion === AUDIT_CHAIN_VERSION ? 'its hash does not match its columns' : `unknown chain version ${r.chainVersion}`;
      return this.fail({ partition: p, seq: r.seq, problem: 'tampered', detail: `row ${r.seq} was altered: ${why}` });
    }
    const hex = r.hash.toString('hex');
    for (; this.nextHead < this.heads.length && this.heads[this.nextHead]!.seq === r.seq; this.nextHead++) {
      const head = this.heads[this.nextHead]!;
      if (head.hash !== hex) {
        return this.fail({ partition: p, seq: r.seq, problem: 'head-mismatch', head, detail: `a signed head${from(head)} says row ${r.seq} has hash ${short(head.hash)}, the table has ${short(hex)}: the chain was rewritten after the head was published` });
      }
      this.headsMatched++;
    }
    this.prev = { seq: r.seq, hash: r.hash };
    this.rows++;
    return undefined;
  }

  /** After the last row: every head beyond the last row is a removed tail. */
  finish(): AuditProblem | undefined {
    if (this.problem) return this.problem;
    const head = this.heads[this.heads.length - 1];
    if (head && head.seq > this.prev.seq) {
      return this.fail({
        partition: this.partition,
        seq: this.prev.seq + 1,
        problem: 'tail-missing',
        head,
        detail: `a signed head${from(head)} says the chain reached row ${head.seq} (hash ${short(head.hash)}), the table ends at row ${this.prev.seq}: rows ${this.prev.seq + 1}-${head.seq} were removed`,
      });
    }
    return undefined;
  }

  private fail(problem: AuditProblem): AuditProblem {
    this.problem = problem;
    return problem;
  }
}

/** Verifies a whole partition held in memory: rows in seq order, heads in any order. */
export function verifyPartitionChain(partition: number, rows: Iterable<StoredAuditRow>, heads: readonly AuditHeadRef[] = []): { ok: true; rows: number } | { ok: false; rows: number; problem: AuditProblem } {
  const v = new PartitionChainVerifier(partition, heads);
  for (const r of rows) if (v.push(r)) break;
  const problem = v.finish();
  return problem ? { ok: false, rows: v.rows, problem } : { ok: true, rows: v.rows };
}

function hashMatches(prevHash: Buffer, r: StoredAuditRow): boolean {
  if (r.chainVersion === AUDIT_CHAIN_VERSION) return auditHash(prevHash, r).equals(r.hash);
  if (r.chainVersion !== 1) return false;
  const matches = (at: string): boolean => auditHashV1(prevHash, { ...r, at }).equals(r.hash);
  // The ISO form covers every engine row; only the others pay for parsing their payload.
  return matches(new Date(r.atMs).toISOString()) || legacyAtCandidates(r.atMs, r.payload).slice(1).some(matches);
}

const short = (hex: string): string => `${hex.slice(0, 12)}…`;
const from = (h: AuditHeadRef): string => (h.source ? ` (${h.source})` : '');
