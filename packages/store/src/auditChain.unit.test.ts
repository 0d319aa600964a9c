import { Instant } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { auditHash, auditHashV1, canonicalInstantMs, canonicalRecord, canonicalText, chain, GENESIS_HASH, legacyAtCandidates } from './auditChain.js';
import type { StoreError } from './StoreError.js';

const T = Date.UTC(2026, 11, 6, 10, 0, 0);

describe('canonical instant (epoch milliseconds)', () => {
  it('is the same for every spelling of one instant the contracts accept', () => {
    for (const s of ['2026-12-06T10:00:00Z', '2026-12-06T10:00:00.000Z', '2026-12-06T10:00:00.0Z', '2026-12-06T12:00:00+02:00', '2026-12-06T05:30:00-04:30', '2026-12-06T10:00:00-00:00', '2026-12-06T10:00:00.000000000Z']) {
      expect(Instant.safeParse(s).success).toBe(true);
      expect(canonicalInstantMs(s), s).toBe(T);
    }
  });

  it('truncates below the millisecond, never rounds into the next second', () => {
    expect(canonicalInstantMs('2026-12-06T10:00:00.123456Z')).toBe(T + 123);
    expect(canonicalInstantMs('2026-12-06T10:00:00.123999999Z')).toBe(T + 123);
    expect(canonicalInstantMs('2026-12-06T10:00:00.9999996Z')).toBe(T + 999);
    expect(canonicalInstantMs('2026-12-06T10:00:00.5Z')).toBe(T + 500);
  });

  it('covers the whole range of four-digit years, offsets crossing a year included', () => {
    expect(canonicalInstantMs('0000-01-01T00:00:00Z')).toBe(-62_167_219_200_000);
    expect(canonicalInstantMs('0050-03-01T00:00:00Z')).toBe(new Date('0050-03-01T00:00:00Z').getTime()); // not 1950
    expect(canonicalInstantMs('9999-12-31T23:59:59.999-14:00')).toBe(Date.UTC(10000, 0, 1, 13, 59, 59, 999));
    expect(canonicalInstantMs('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('agrees with Date.parse wherever the contracts accept an instant (seeded sample)', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
    let acceptedCount = 0;
    for (let i = 0; i < 2000; i++) {
      const frac = ['', '.', '.1', '.12', '.123', '.1234', '.123456', '.123456789'][rnd(8)]!;
      const off = ['Z', '+00:00', '+02:00', '-05:30', '+14:00', '-12:00'][rnd(6)]!;
      const s = `${pad(1900 + rnd(300), 4)}-${pad(1 + rnd(12))}-${pad(1 + rnd(31))}T${pad(rnd(24))}:${pad(rnd(60))}:${pad(rnd(60))}${frac}${off}`;
      const accepted = Instant.safeParse(s).success;
      if (!accepted) {
        expect(() => canonicalInstantMs(s), s).toThrow();
        continue;
      }
      acceptedCount++;
      expect(canonicalInstantMs(s), s).toBe(Date.parse(s));
    }
    expect(acceptedCount).toBeGreaterThan(1500);
  });

  it('rejects what is not an RFC 3339 instant, as a poison StoreError', () => {
    for (const s of ['2026-02-30T10:00:00Z', '2023-02-29T00:00:00Z', '2026-12-06 10:00:00Z', '2026-12-06T10:00:00+0200', '2026-12-06T10:00Z', '2026-12-06T24:00:00Z', '2026-12-06T10:00:60Z', 'yesterday']) {
      expect(Instant.safeParse(s).success, s).toBe(false);
      expect(() => canonicalInstantMs(s), s).toThrow(expect.objectContaining({ code: 'INVALID_AUDIT_RECORD', classification: 'poison' }) as StoreError);
    }
  });
});

describe('canonical text', () => {
  it('is the string itself unless PostgreSQL text cannot hold it', () => {
    for (const s of ['', 'alice', 'é ✓ 😀', JSON.stringify({ a: 'x\u0000y\ud800z' }), 'a\\u0000b']) expect(canonicalText(s)).toBe(s);
  });

  it('replaces NUL and unpaired surrogates with U+FFFD, keeps pairs', () => {
    expect(canonicalText('a\u0000b')).toBe('a\uFFFDb');
    expect(canonicalText('a\ud800b')).toBe('a\uFFFDb');
    expect(canonicalText('a\udc00b')).toBe('a\uFFFDb');
    expect(canonicalText('\ud83d\ude00\ud83d')).toBe('\ud83d\ude00\uFFFD');
    expect(canonicalText('\udc00\ud800')).toBe('\uFFFD\uFFFD');
  });
});

describe('chain format 2', () => {
  const base = { partition: 0, kind: 'order.issued', identityId: null, version: null, actor: 'alice', eventId: 'e1', payload: '{}' };

  it('hashes one instant the same however the producer spelled it', () => {
    const hashes = ['2026-12-06T10:00:00Z', '2026-12-06T12:00:00+02:00', '2026-12-06T10:00:00.000456Z'].map((at) => chain({ seq: 0, hash: GENESIS_HASH }, [{ ...base, at }])[0]!);
    expect(new Set(hashes.map((h) => h.hash.toString('hex'))).size).toBe(1);
    expect(hashes[0]).toMatchObject({ seq: 1, atMs: T, chainVersion: 2 });
  });

  it('stores and hashes the canonical texts', () => {
    const [r] = chain({ seq: 0, hash: GENESIS_HASH }, [{ ...base, at: '2026-12-06T10:00:00Z', actor: 'mal\u0000lory\ud800' }]);
    expect(r!.actor).toBe('mal\uFFFDlory\uFFFD');
    expect(r!.hash.equals(auditHash(GENESIS_HASH, r!))).toBe(true);
  });

  it('is domain-separated from format 1', () => {
    const rec = { ...base, seq: 1, at: '2026-12-06T10:00:00.000Z' };
    expect(auditHash(GENESIS_HASH, canonicalRecord(rec)).equals(auditHashV1(GENESIS_HASH, rec))).toBe(false);
  });
});

describe('format 1 candidates for `at`', () => {
  it('are the ISO form, plus the payload time when it denotes the stored millisecond', () => {
    const payload = (time: string): string => JSON.stringify({ id: 'e1', type: 'order.issued', time });
    expect(legacyAtCandidates(T, payload('2026-12-06T12:00:00+02:00'))).toEqual(['2026-12-06T10:00:00.000Z', '2026-12-06T12:00:00+02:00']);
    expect(legacyAtCandidates(T + 123, payload('2026-12-06T10:00:00.123456Z'))).toEqual(['2026-12-06T10:00:00.123Z', '2026-12-06T10:00:00.123456Z']);
    // A payload time of another instant is not a candidate: `at` would have been changed.
    expect(legacyAtCandidates(T, payload('2026-12-06T11:00:00Z'))).toEqual(['2026-12-06T10:00:00.000Z']);
    expect(legacyAtCandidates(T, '{"summary":"no time"}')).toEqual(['2026-12-06T10:00:00.000Z']);
    expect(legacyAtCandidates(T, 'not json')).toEqual(['2026-12-06T10:00:00.000Z']);
  });
});
