import { describe, expect, it } from 'vitest';
import { auditHashV1, chain, GENESIS_HASH, type AuditRecord, type ChainedAuditRecord, type ChainTail } from './auditChain.js';
import { verifyPartitionChain, type AuditHeadRef, type StoredAuditRow } from './ChainVerifier.js';

const T = Date.UTC(2026, 11, 6, 10, 0, 0);
const rec = (i: number, extra: Partial<AuditRecord> = {}): Omit<AuditRecord, 'seq'> => ({ partition: 0, at: new Date(T + i).toISOString(), kind: 'scope.change', identityId: `id-${i}`, version: i, actor: null, eventId: `e${i}`, payload: JSON.stringify({ i }), ...extra });
/** What the table gives back for a format-2 row. */
const stored = (r: ChainedAuditRecord): StoredAuditRow => ({ ...r });
const rowsOf = (n: number, from: ChainTail = { seq: 0, hash: GENESIS_HASH }, tag = ''): StoredAuditRow[] =>
  chain(from, Array.from({ length: n }, (_, i) => rec(from.seq + i + 1, tag ? { payload: tag } : {}))).map(stored);
const headOf = (r: StoredAuditRow): AuditHeadRef => ({ seq: r.seq, hash: r.hash.toString('hex'), source: `head ${r.seq}` });

describe('chain verification without heads', () => {
  it('accepts an intact chain, and an empty one', () => {
    expect(verifyPartitionChain(0, rowsOf(5))).toEqual({ ok: true, rows: 5 });
    expect(verifyPartitionChain(0, [])).toEqual({ ok: true, rows: 0 });
  });

  it('reports a changed column as tampered at that row', () => {
    const rows = rowsOf(5);
    rows[2] = { ...rows[2]!, payload: '{"i":3,"widened":true}' };
    expect(verifyPartitionChain(0, rows)).toMatchObject({ ok: false, rows: 2, problem: { seq: 3, problem: 'tampered' } });
    const moved = rowsOf(5);
    moved[3] = { ...moved[3]!, atMs: moved[3]!.atMs + 1 };
    expect(verifyPartitionChain(0, moved)).toMatchObject({ ok: false, problem: { seq: 4, problem: 'tampered' } });
  });

  it('reports a removed row as missing, a relinked one as broken-link', () => {
    const rows = rowsOf(5);
    expect(verifyPartitionChain(0, [...rows.slice(0, 2), ...rows.slice(3)])).toMatchObject({ ok: false, problem: { seq: 3, problem: 'missing' } });
    expect(verifyPartitionChain(0, rows.slice(1))).toMatchObject({ ok: false, problem: { seq: 1, problem: 'missing' } });
    rows[3] = { ...rows[3]!, prevHash: Buffer.alloc(32, 1) };
    expect(verifyPartitionChain(0, rows)).toMatchObject({ ok: false, problem: { seq: 4, problem: 'broken-link' } });
  });

  it('does not verify a row of an unknown chain version', () => {
    const rows = rowsOf(2);
    rows[1] = { ...rows[1]!, chainVersion: 3 };
    expect(verifyPartitionChain(0, rows)).toMatchObject({ ok: false, problem: { seq: 2, problem: 'tampered', detail: expect.stringContaining('unknown chain version 3') as string } });
  });

  it('cannot see a removed tail: that is what heads are for', () => {
    expect(verifyPartitionChain(0, rowsOf(5).slice(0, 3))).toEqual({ ok: true, rows: 3 });
  });
});

describe('chain verification against signed heads', () => {
  it('accepts heads that are rows of the chain, in any order, duplicates and seq 0 included', () => {
    const rows = rowsOf(6);
    const heads = [headOf(rows[5]!), headOf(rows[1]!), headOf(rows[1]!), { seq: 0, hash: GENESIS_HASH.toString('hex') }];
    expect(verifyPartitionChain(0, rows, heads)).toEqual({ ok: true, rows: 6 });
  });

  it('reports a removed tail: the head seq is beyond the last row', () => {
    const rows = rowsOf(6);
    const result = verifyPartitionChain(0, rows.slice(0, 4), [headOf(rows[2]!), headOf(rows[5]!)]);
    expect(result).toMatchObject({ ok: false, rows: 4, problem: { partition: 0, seq: 5, problem: 'tail-missing', head: { seq: 6 } } });
    expect(!result.ok && result.problem.detail).toMatch(/head \(head 6\) says the chain reached row 6 .* the table ends at row 4: rows 5-6 were removed/);
  });

  it('reports a whole chain removed when a head exists for it', () => {
    const rows = rowsOf(3);
    expect(verifyPartitionChain(0, [], [headOf(rows[2]!)])).toMatchObject({ ok: false, problem: { seq: 1, problem: 'tail-missing' } });
  });

  it('reports a rewritten tail (rows removed, then new ones appended) as a head mismatch', () => {
    const original = rowsOf(6);
    // The worker restarted on the shortened table and chained new rows from row 3.
    const forked = [...original.slice(0, 3), ...rowsOf(5, { seq: 3, hash: original[2]!.hash }, 'after the removal')];
    expect(forked).toHaveLength(8);
    expect(verifyPartitionChain(0, forked)).toEqual({ ok: true, rows: 8 });
    expect(verifyPartitionChain(0, forked, [headOf(original[2]!), headOf(original[5]!)])).toMatchObject({ ok: false, rows: 5, problem: { seq: 6, problem: 'head-mismatch', head: { seq: 6 } } });
  });

  it('reports two signed heads for one seq with different hashes (a fork) as a head mismatch', () => {
    const rows = rowsOf(3);
    const other = rowsOf(3, { seq: 0, hash: GENESIS_HASH }, 'other');
    expect(verifyPartitionChain(0, rows, [headOf(rows[2]!), headOf(other[2]!)])).toMatchObject({ ok: false, problem: { seq: 3, problem: 'head-mismatch' } });
  });
});

describe('chain format 1 (rows written before the upgrade)', () => {
  /** A row as the previous release wrote it: `at` hashed as the producer's text, chain_version 1. */
  function legacyRows(ats: readonly string[], payloadOf: (at: string) => string): StoredAuditRow[] {
    let prev: Buffer = GENESIS_HASH;
    return ats.map((at, i) => {
      const r: AuditRecord = { partition: 0, seq: i + 1, at, kind: 'order.issued', identityId: null, version: null, actor: 'alice', eventId: `e${i}`, payload: payloadOf(at) };
      const hash = auditHashV1(prev, r);
      const row: StoredAuditRow = { ...r, chainVersion: 1, atMs: Math.floor(Date.parse(at)), prevHash: prev, hash };
      prev = hash;
      return row;
    });
  }
  const ats = ['2026-12-06T10:00:00.000Z', '2026-12-06T10:00:00Z', '2026-12-06T12:00:00+02:00', '2026-12-06T10:00:00.123456Z'];

  it('verifies broadcast rows whose time was not in ISO form, from the time in their payload', () => {
    expect(verifyPartitionChain(0, legacyRows(ats, (time) => JSON.stringify({ id: 'e', type: 'order.issued', time })))).toEqual({ ok: true, rows: 4 });
  });

  it('still detects a changed instant in a format-1 row', () => {
    const rows = legacyRows(ats, (time) => JSON.stringify({ time }));
    rows[2] = { ...rows[2]!, atMs: rows[2]!.atMs + 60_000 };
    expect(verifyPartitionChain(0, rows)).toMatchObject({ ok: false, problem: { seq: 3, problem: 'tampered' } });
  });

  it('cannot verify a non-ISO instant that the payload does not carry (documented limit)', () => {
    expect(verifyPartitionChain(0, legacyRows(ats, () => '{}'))).toMatchObject({ ok: false, problem: { seq: 2, problem: 'tampered' } });
  });

  it('chains on into format 2 rows after the upgrade', () => {
    const old = legacyRows(ats, (time) => JSON.stringify({ time }));
    const last = old[old.length - 1]!;
    expect(verifyPartitionChain(0, [...old, ...rowsOf(3, { seq: last.seq, hash: last.hash })], [headOf(last)])).toEqual({ ok: true, rows: 7 });
  });
});
