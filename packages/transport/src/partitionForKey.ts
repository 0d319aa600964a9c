import { Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();
const metadataCache = new Map<number, { partitionId: number; leader: number }[]>();

/** The partition a key lands on with the Java-compatible murmur2 partitioner every livescope producer uses. */
export function partitionForKey(key: string, partitions: number): number {
  let meta = metadataCache.get(partitions);
  if (!meta) metadataCache.set(partitions, (meta = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0] }))));
  return partitioner({ topic: 'livescope', partitionMetadata: meta as never, message: { key, value: null } });
}
