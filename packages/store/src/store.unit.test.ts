import { describe, expect, it } from 'vitest';
import { auditHash, canonicalRecord, chain, GENESIS_HASH } from './auditChain.js';
import { migrations } from './migrations.js';
import { classifyPgError } from './StoreError.js';

const row = { partition: 0, at: '2026-11-28T12:00:00.000Z', kind: 'scope.change', identityId: 'a', version: 1, actor: null, eventId: 'e1', payload: '{}' };

describe('audit chain', () => {
  it('links every record to the previous one', () => {
    const records = chain({ seq: 0, hash: GENESIS_HASH }, [row, { ...row, version: 2 }, { ...row, version: 3 }]);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0]!.prevHash.equals(GENESIS_HASH)).toBe(true);
    expect(records[1]!.prevHash.equals(records[0]!.hash)).toBe(true);
    expect(records[2]!.hash.equals(auditHash(records[1]!.hash, canonicalRecord({ ...row, version: 3, seq: 3 })))).toBe(true);
  });

  it('changes the hash when any column changes', () => {
    const base = auditHash(GENESIS_HASH, canonicalRecord({ ...row, seq: 1 }));
    for (const change of [{ payload: '{"x":1}' }, { actor: 'mallory' }, { version: 9 }, { seq: 2 }, { identityId: 'b' }, { at: '2026-11-28T12:00:00.001Z' }, { kind: 'revocation' }, { eventId: null }, { partition: 1 }]) {
      expect(auditHash(GENESIS_HASH, canonicalRecord({ ...row, seq: 1, ...change })).equals(base)).toBe(false);
    }
  });
});

describe('migrations', () => {
  it('are numbered 1..n without gaps', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('refuse TRUNCATE of the audit log with a statement-level trigger, added by a migration of its own', () => {
    const m = migrations.find((x) => x.sql.includes('BEFORE TRUNCATE ON audit_log'));
    expect(m?.sql).toMatch(/FOR EACH STATEMENT/);
    expect(m!.version).toBeGreaterThan(1);
  });
});

describe('PostgreSQL error classification', () => {
  it('treats connection loss and shutdown as transient, the rest as fatal', () => {
    expect(classifyPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'x').classification).toBe('transient');
    expect(classifyPgError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'x').classification).toBe('transient');
    expect(classifyPgError(new Error('Connection terminated unexpectedly'), 'x').classification).toBe('transient');
    expect(classifyPgError(Object.assign(new Error('syntax error'), { code: '42601' }), 'x')).toMatchObject({ classification: 'fatal', code: 'PG_ERROR' });
  });
});
