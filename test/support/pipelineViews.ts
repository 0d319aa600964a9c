import type { Enforcer } from '@livescope/enforcer';
import type { Store } from '@livescope/store';
import type { Admin } from 'kafkajs';

/** Whether every partition's committed offset in PostgreSQL has reached the topic's end. */
export async function caughtUp(admin: Admin, store: Store, topic: string): Promise<boolean> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const { rows } = await store.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM partition_state WHERE topic = $1', [topic], 'positions');
  const pos = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  return offsets.every((o) => {
    const high = BigInt(o.high);
    const at = pos.get(o.partition) ?? -1n;
    return high === 0n ? at <= 0n : at === high;
  });
}

/**
 * An identity state of record without the instants the broker stamped (the processing clock, when
 * it was created, when grants and sessions were applied, when permissions were last used, the
 * review timer derived from them): two different logs of the same events are appended at different
 * instants (LogAppendTime), everything else must be identical. Nor the due instant of a pending
 * snapshot (`sd`, LIVESCOPE_SNAPSHOT_INTERVAL_MS): it follows the worker's timer clock, and whether
 * it is still pending depends on when the worker last ticked.
 */
export function timelessState(text: string): string {
  const j = JSON.parse(text) as Record<string, unknown>;
  for (const k of ['clk', 'c', 'lc', 'w', 'u', 'ra', 'sd']) delete j[k];
  const dropAt = (rows: unknown, index: number): unknown => (Array.isArray(rows) ? rows.map((r: unknown[]) => r.filter((_, i) => i !== index)) : rows);
  j.g = dropAt(j.g, 2);
  j.j = dropAt(j.j, 3);
  j.s = dropAt(j.s, 5);
  return JSON.stringify(j);
}

/** A command's JSON without the instant it was decided at (see `timelessState`). */
export function timelessCommand(json: string): string {
  const j = JSON.parse(json) as Record<string, unknown>;
  delete j.at;
  return JSON.stringify(j);
}

/** Identity states of record, as text without broker-stamped instants (see `timelessState`), by identity id. */
export async function statesOf(store: Store): Promise<Map<string, string>> {
  const { rows } = await store.query<{ identity_id: string; state: string }>('SELECT identity_id, state FROM identity_state ORDER BY identity_id', [], 'states');
  return new Map(rows.map((r) => [r.identity_id, timelessState(r.state)]));
}

/** Audit rows per (kind, identity, version): a double-applied event would show up as an extra row. */
export async function auditCounts(store: Store): Promise<Map<string, number>> {
  const { rows } = await store.query<{ k: string; n: string }>("SELECT kind || ':' || coalesce(identity_id, '') || ':' || coalesce(version::text, '') || ':' || coalesce(event_id, '') AS k, count(*)::text AS n FROM audit_log GROUP BY 1", [], 'audit counts');
  return new Map(rows.map((r) => [r.k, Number(r.n)]));
}

/** The enforcer's view, canonical: identity → version, status, permissions, sessions. */
export function enforcerView(e: Enforcer): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, v] of e.state.identities) {
    // Permissions bound to sessions are held apart from those that hold in any session.
    const perms = e.state.permissionsOf(v).map((p) => `${p.action} ${p.resource} ${p.until}${p.sessions === undefined ? '' : ` in ${[...p.sessions].sort().join(',')}`}`);
    out.set(id, JSON.stringify([v.version, v.status, perms.sort(), [...v.sessions].sort()]));
  }
  return out;
}

export function diffMaps(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${v.slice(0, 200)} ≠ ${(b.get(k) ?? '(missing)').slice(0, 200)}`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: (missing) ≠ present`);
  return out;
}
