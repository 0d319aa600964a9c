import { topicConfigs, topicSpecs, type TopicSpec } from '@livescope/contracts';
import type { Admin } from 'kafkajs';

export interface EnsureTopicsOptions {
  /** Prefix for isolated pipelines (tests); '' in production. */
  readonly prefix?: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  readonly specs?: readonly TopicSpec[];
}

/**
 * Creates missing topics (idempotent) — what tests need for their isolated pipelines. The
 * operator's provisioning, which also repairs configs and partition counts, is infra/provision-topics.ts.
 */
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
      configEntries: Object.entries(topicConfigs(s)).map(([name, value]) => ({ name, value })),
    })),
  });
  return missing.map((s) => `${prefix}${s.name}`);
}
