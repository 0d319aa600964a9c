import type { Store } from '@livescope/store';
import type { PgClient } from './Database.js';

/** `cp_offsets`: the next offset of each partition the control plane's stores consume (see PgOffsetConsumer). */
export class ConsumerOffsets {
  constructor(private readonly store: Store) {}

  /** Next offset stored for a consumed partition; -1 when none was ever stored. */
  async loadOffset(consumer: string, topic: string, partition: number): Promise<bigint> {
    const { rows } = await this.store.query<{ next_offset: string }>('SELECT next_offset FROM cp_offsets WHERE consumer = $1 AND topic = $2 AND partition = $3', [consumer, topic, partition], 'read consumer offset');
    return rows[0] ? BigInt(rows[0].next_offset) : -1n;
  }

  /** Moves a partition's offset from `expected` to `next`; false when another instance moved it (fenced). */
  async advanceOffset(client: PgClient, consumer: string, topic: string, partition: number, expected: bigint, next: bigint): Promise<boolean> {
    const { rowCount } = await client.query(
      `INSERT INTO cp_offsets AS o (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $5)
       ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE o.next_offset = $4`,
      [consumer, topic, partition, expected.toString(), next.toString()],
    );
    return rowCount === 1;
  }
}
