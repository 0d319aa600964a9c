import { decodeCursor, encodeCursor } from '../http/pagination.js';

/** Where a row stands in a newest-first read of the audit log: `(at, partition, seq)` descending. */
export interface AuditKey {
  readonly at: string;
  readonly partition: number;
  readonly seq: number;
}

const isAuditKey = (k: readonly unknown[]): k is [string, number, number] =>
  k.length === 3 && typeof k[0] === 'string' && !Number.isNaN(Date.parse(k[0])) && Number.isSafeInteger(k[1]) && Number.isSafeInteger(k[2]);

/** The page cursor after an audit row (opaque to clients). */
export function encodeAuditKey(k: AuditKey): string {
  return encodeCursor([k.at, k.partition, k.seq]);
}

/** The audit row a page cursor points after; 400 `query.cursor` when it is not one this API made. */
export function decodeAuditKey(text: string): AuditKey {
  const [at, partition, seq] = decodeCursor(text, isAuditKey);
  return { at, partition, seq };
}
