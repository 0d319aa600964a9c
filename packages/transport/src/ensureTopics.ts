import { topicConfigs, topicSpecs, type TopicSpec } from '@livescope/contracts';
import type { Admin, ITopicConfig } from 'kafkajs';

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
  await createTopicsReady(
    admin,
    missing.map((s) => ({
      topic: `${prefix}${s.name}`,
      numPartitions: o.partitions,
      replicationFactor: o.replicationFactor ?? 1,
      configEntries: Object.entries(topicConfigs(s)).map(([name, value]) => ({ name, value })),
    })),
  );
  return missing.map((s) => `${prefix}${s.name}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Creates `topics` and waits, bounded by `timeoutMs`, until the broker's metadata shows a leader
 * for every partition. kafkajs' own `waitForLeaders` retries only LEADER_NOT_AVAILABLE; a broker
 * under load also answers UNKNOWN_TOPIC_OR_PARTITION for a moment after the creation, which made
 * fixture set-up fail at random. A topic that already exists (a retried creation) is fine.
 */
export async function createTopicsReady(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ waitForLeaders: false, topics });
  } catch (e) {
    const errors = (e as { errors?: { type?: string }[] }).errors;
    const exists = (e as { type?: string }).type === 'TOPIC_ALREADY_EXISTS' || (Array.isArray(errors) && errors.length > 0 && errors.every((x) => x.type === 'TOPIC_ALREADY_EXISTS'));
    if (!exists) throw e;
  }
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: names });
      const waiting = meta.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}/${p.partitionId}`));
      if (meta.topics.length === names.length && waiting.length === 0) return;
      last = waiting.length ? `no leader yet for ${waiting.slice(0, 5).join(', ')}` : 'metadata lists fewer topics than created';
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() + delay > deadline) throw new Error(`topics ${names.join(', ')} were created but have no leader after ${timeoutMs} ms: ${last}`);
    await sleep(delay);
  }
}
