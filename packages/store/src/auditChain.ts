import { createHash } from 'node:crypto';

/** One audit record as written: the chain covers every column but the hashes themselves. */
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

export interface ChainedAuditRecord extends AuditRecord {
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export const GENESIS_HASH = Buffer.alloc(32);

/** hash = sha256(prev_hash || canonical JSON of the record's columns). */
export function auditHash(prevHash: Buffer, r: AuditRecord): Buffer {
  const canonical = JSON.stringify([r.partition, r.seq, r.at, r.kind, r.identityId, r.version, r.actor, r.eventId, r.payload]);
  return createHash('sha256').update(prevHash).update(canonical).digest();
}

/** The tail of one partition's chain: what the next record links to. */
export interface ChainTail {
  seq: number;
  hash: Buffer;
}

export function chain(tail: ChainTail, records: readonly Omit<AuditRecord, 'seq'>[]): ChainedAuditRecord[] {
  const out: ChainedAuditRecord[] = [];
  let { seq, hash } = tail;
  for (const r of records) {
    seq += 1;
    const rec = { ...r, seq };
    const next = auditHash(hash, rec);
    out.push({ ...rec, prevHash: hash, hash: next });
    hash = next;
  }
  return out;
}
