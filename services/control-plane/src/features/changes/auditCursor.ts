import { ControlPlaneError } from '../../ControlPlaneError.js';

/**
 * Positions in the audit log are opaque to clients (SSE ids): `partition:seq` pairs, comma-separated,
 * the last sequence number read per partition.
 */
export function encodeAuditCursor(c: ReadonlyMap<number, number>): string {
  const parts = [...c].sort(([a], [b]) => a - b).map(([p, seq]) => `${p}:${seq}`);
  return parts.length ? parts.join(',') : '0:0';
}

export function decodeAuditCursor(text: string, path = 'query.lastEventId'): Map<number, number> {
  const out = new Map<number, number>();
  for (const pair of text.split(',')) {
    const m = /^(\d{1,6}):(\d{1,19})$/.exec(pair.trim());
    const seq = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(seq)) throw new ControlPlaneError('INVALID_REQUEST', `${path === 'query.lastEventId' ? 'Last-Event-ID' : path}: not a position returned by this API`, { paths: [path] });
    out.set(Number(m[1]), seq);
  }
  return out;
}
