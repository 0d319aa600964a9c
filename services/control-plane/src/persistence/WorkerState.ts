import type { Store } from '@livescope/store';

export interface PartitionRow {
  readonly partition: number;
  readonly nextOffset: bigint;
  readonly globals: string | null;
  readonly policies: string | null;
}

/**
 * An identity state as jsonb, for SQL over `identity_state i`. Permission keys in it hold NUL
 * separators, which JSON escapes as \u0000 but jsonb refuses: those escapes become \u001f first
 * (only keys change, never a field read here). The fields are the scope engine's (see scope-engine
 * `stateCodec`): kind `k`, namespace `ns`, name `n`, owner `o`, scope `sc`, sessions `s`, risk `r`.
 */
export const STATE_JSONB = "replace(i.state, '\\u0000', '\\u001f')::jsonb";

/**
 * Reads of the workers' state of record that several features share: each partition's position,
 * org-wide state and policy set (`partition_state`), and one identity's state (`identity_state`).
 * The workers write these tables; the control plane only reads them.
 */
export class WorkerState {
  constructor(private readonly store: Store) {}

  async partitionsOf(topic: string): Promise<PartitionRow[]> {
    const { rows } = await this.store.query<{ partition: number; next_offset: string; globals: string | null; policies: string | null }>(
      'SELECT partition, next_offset, globals, policies FROM partition_state WHERE topic = $1 ORDER BY partition',
      [topic],
      'read partitions',
    );
    return rows.map((r) => ({ partition: r.partition, nextOffset: BigInt(r.next_offset), globals: r.globals, policies: r.policies }));
  }

  async partitionPositions(topic: string): Promise<Map<number, bigint>> {
    const { rows } = await this.store.query<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM partition_state WHERE topic = $1', [topic], 'read partition positions');
    return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
  }

  async identityState(identityId: string): Promise<{ partition: number; state: string } | undefined> {
    return this.store.identityState(identityId);
  }
}
