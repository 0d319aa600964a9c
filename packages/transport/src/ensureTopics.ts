import { topicSpecs, type TopicSpec } from '@livescope/contracts';
import type { Admin } from 'kafkajs';

export interface EnsureTopicsOptions {
  /** Prefix for isolated pipelines (tests); '' in production. */
  readonly prefix?: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly specs?: readonly TopicSpec[];
}

/** Kafka topic configs for a spec: compaction for snapshots, retention for event streams. */
export function topicConfig(spec: TopicSpec): Record<string, string> {
  const c: Record<string, string> = { 'cleanup.policy': spec.cleanupPolicy, 'retention.ms': String(spec.retentionMs) };
  if (spec.cleanupPolicy === 'compact') {
    c['min.cleanable.dirty.ratio'] = '0.1';
    c['segment.ms'] = String(60 * 60 * 1000);
  }
  return c;
}

/** Creates missing topics (idempotent). Returns the names it created. */
export async function ensureTopics(admin: Admin, o: EnsureTopicsOptions): Promise<string[]> {
  const prefix = o.prefix ?? '';
  const existing = new Set(await admin.listTopics());
  const missing = (o.specs ?? topicSpecs).filter((s) => !existing.has(`${prefix}${s.name}`));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((s) => ({
      topic: `${prefix}${s.name}`,
      numPartitions: o.partitions,
      replicationFactor: o.replicationFactor ?? 1,
      configEntries: Object.entries(topicConfig(s)).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((s) => `${prefix}${s.name}`);
}
