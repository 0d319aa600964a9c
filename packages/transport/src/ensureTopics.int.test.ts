import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTopicsReady } from './ensureTopics.js';
import { createKafka } from './createKafka.js';
import { createLogger } from './createLogger.js';

const brokers = (process.env.LIVESCOPE_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('createTopicsReady against the broker', () => {
  it('returns once every partition has a leader, and a repeated creation of the same topics is not an error', async () => {
    const admin = createKafka({ brokers, clientId: 'ensure-topics-test', logger: createLogger('test', 'error') }).admin();
    await admin.connect();
    const topics = [0, 1, 2].map((i) => ({ topic: `t${randomUUID().slice(0, 8)}.ready-${i}`, numPartitions: 4, replicationFactor: 1 }));
    try {
      await createTopicsReady(admin, topics);
      await createTopicsReady(admin, topics);
      const meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      expect(meta.topics.map((t) => t.partitions.filter((p) => p.leader >= 0).length)).toEqual([4, 4, 4]);
    } finally {
      await admin.deleteTopics({ topics: topics.map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('a creation the broker refuses is an error, not a wait', async () => {
    const admin = createKafka({ brokers, clientId: 'ensure-topics-test', logger: createLogger('test', 'error') }).admin();
    await admin.connect();
    try {
      await expect(createTopicsReady(admin, [{ topic: `t${randomUUID().slice(0, 8)}.bad`, numPartitions: 1, replicationFactor: 3 }], 5_000)).rejects.toThrow();
    } finally {
      await admin.disconnect();
    }
  });
});
