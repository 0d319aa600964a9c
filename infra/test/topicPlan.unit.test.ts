import { COMPACTED_TOPIC_CONFIGS } from '@livescope/contracts';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARTITIONS, Topics, topicSpecs } from '@livescope/contracts';
import {
  coPartitioningWarning,
  describePlan,
  desiredTopic,
  finalPartitionCount,
  formatTable,
  isNoop,
  parsePartitions,
  planTopic,
  sameConfigValue,
  type ActualConfigEntry,
  type ActualTopic,
  type DesiredTopic,
} from '../topicPlan.js';

const DAY_MS = 24 * 3600 * 1000;
const events = { name: 'livescope.events.v1', keying: 'identity', cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS } as const;
const snapshots = { name: 'livescope.scope.snapshots.v1', keying: 'identity', cleanupPolicy: 'compact', retentionMs: -1 } as const;

/** What describeConfigs reports for a topic with these effective values and overrides. */
function actualOf(d: DesiredTopic, patch: Partial<ActualTopic> = {}, extra: ActualConfigEntry[] = []): ActualTopic {
  return {
    name: d.name,
    partitions: d.partitions,
    replicationFactor: d.replicationFactor,
    configs: [
      ...Object.entries(d.configs).map(([name, value]) => ({ name, value, isTopicOverride: true })),
      { name: 'max.message.bytes', value: '1048588', isTopicOverride: false },
      ...extra,
    ],
    ...patch,
  };
}

describe('desiredTopic', () => {
  it('takes cleanup.policy and retention.ms from the spec', () => {
    expect(desiredTopic(events, 6).configs).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) });
  });

  it('gives compacted topics hourly segments and a low dirty ratio, so compaction actually runs', () => {
    const d = desiredTopic(snapshots, 6);
    expect(d.configs).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '-1', ...COMPACTED_TOPIC_CONFIGS });
    expect(Number(d.configs['segment.ms'])).toBeLessThan(7 * DAY_MS);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => desiredTopic(events, 0)).toThrow(RangeError);
    expect(() => desiredTopic(events, 1.5)).toThrow(RangeError);
  });

  it('covers every topic of the contracts', () => {
    const all = topicSpecs.map((s) => desiredTopic(s, DEFAULT_PARTITIONS));
    expect(all.map((d) => d.name).sort()).toEqual(Object.values(Topics).sort());
    expect(all.every((d) => d.partitions === DEFAULT_PARTITIONS && d.replicationFactor === 1)).toBe(true);
  });
});

describe('planTopic', () => {
  it('creates a missing topic as desired', () => {
    const d = desiredTopic(events, 6);
    const plan = planTopic(d, undefined);
    expect(plan.create).toEqual(d);
    expect(describePlan(plan)).toBe('created');
    expect(finalPartitionCount(plan, undefined)).toBe(6);
  });

  it('does nothing when the topic already matches (a second provisioning run is a no-op)', () => {
    const d = desiredTopic(snapshots, 6);
    const plan = planTopic(d, actualOf(d));
    expect(isNoop(plan)).toBe(true);
    expect(plan.alterConfigs).toBeUndefined();
    expect(plan.warnings).toEqual([]);
    expect(describePlan(plan)).toBe('ok, unchanged');
  });

  it('accepts an effective value that comes from the broker default, not an override', () => {
    const d = desiredTopic(events, 6);
    const actual = actualOf(d, {
      configs: [
        { name: 'cleanup.policy', value: 'delete', isTopicOverride: false },
        { name: 'retention.ms', value: String(7 * DAY_MS), isTopicOverride: true },
      ],
    });
    expect(isNoop(planTopic(d, actual))).toBe(true);
  });

  it('compares cleanup.policy as a set and other values as trimmed strings', () => {
    expect(sameConfigValue('cleanup.policy', 'delete, compact', 'compact,delete')).toBe(true);
    expect(sameConfigValue('cleanup.policy', 'compact,delete', 'compact')).toBe(false);
    expect(sameConfigValue('retention.ms', ' 100 ', '100')).toBe(true);
    expect(sameConfigValue('retention.ms', null, '100')).toBe(false);
  });

  it('fixes differing configs with the full override set, keeping overrides it does not own', () => {
    const d = desiredTopic(events, 6);
    const actual = actualOf(d, {
      configs: [
        { name: 'cleanup.policy', value: 'delete', isTopicOverride: true },
        { name: 'retention.ms', value: '3600000', isTopicOverride: true },
        { name: 'max.message.bytes', value: '2000000', isTopicOverride: true },
        { name: 'segment.bytes', value: '1073741824', isTopicOverride: false },
      ],
    });
    const plan = planTopic(d, actual);
    expect(plan.configChanges).toEqual([{ name: 'retention.ms', from: '3600000', to: String(7 * DAY_MS) }]);
    expect(plan.alterConfigs).toEqual({ 'max.message.bytes': '2000000', 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) });
    expect(describePlan(plan)).toBe(`updated: retention.ms 3600000 -> ${7 * DAY_MS}`);
  });

  it('reports a managed config that is missing from the description as unset', () => {
    const d = desiredTopic(snapshots, 6);
    const actual = actualOf(d, { configs: [{ name: 'cleanup.policy', value: 'compact', isTopicOverride: true }, { name: 'retention.ms', value: '-1', isTopicOverride: true }] });
    const plan = planTopic(d, actual);
    expect(plan.configChanges.map((c) => [c.name, c.from])).toEqual([
      ['min.cleanable.dirty.ratio', null],
      ['segment.ms', null],
    ]);
  });

  it('adds partitions when there are fewer, warning that keys of identity topics move', () => {
    const d = desiredTopic(events, 6);
    const plan = planTopic(d, actualOf(d, { partitions: 3 }));
    expect(plan.addPartitions).toEqual({ from: 3, to: 6 });
    expect(plan.warnings.join()).toMatch(/keys may now map to other partitions/);
    expect(describePlan(plan)).toBe('updated: partitions 3 -> 6');
    expect(finalPartitionCount(plan, actualOf(d, { partitions: 3 }))).toBe(6);
  });

  it('never removes partitions: more than wanted is kept with a warning', () => {
    const d = desiredTopic(events, 6);
    const actual = actualOf(d, { partitions: 12 });
    const plan = planTopic(d, actual);
    expect(plan.addPartitions).toBeUndefined();
    expect(isNoop(plan)).toBe(true);
    expect(plan.warnings.join()).toMatch(/12 partitions, more than the 6 wanted; kept/);
    expect(finalPartitionCount(plan, actual)).toBe(12);
  });

  it('warns about a replication factor it cannot change', () => {
    const d = desiredTopic(events, 6);
    expect(planTopic(d, actualOf(d, { replicationFactor: 3 })).warnings.join()).toMatch(/replication factor 3, not 1/);
  });
});

describe('coPartitioningWarning', () => {
  const desired = topicSpecs.map((s) => desiredTopic(s, 6));

  it('is silent when every identity-keyed topic ends with the same count', () => {
    expect(coPartitioningWarning(desired, new Map(desired.map((d) => [d.name, 6])))).toBeUndefined();
  });

  it('ignores topics not keyed by identity', () => {
    expect(coPartitioningWarning(desired, new Map([[Topics.heartbeats, 2], [Topics.deadLetters, 1]]))).toBeUndefined();
  });

  it('names the identity topics whose counts differ', () => {
    const w = coPartitioningWarning(desired, new Map([[Topics.events, 12]]));
    expect(w).toMatch(/not co-partitioned/);
    expect(w).toContain(`12: ${Topics.events}`);
  });
});

describe('formatTable', () => {
  it('pads columns to their widest cell and underlines the header', () => {
    expect(formatTable(['topic', 'n'], [['a', '6'], ['longer-name', '12']]).split('\n')).toEqual([
      'topic        n',
      '-----------  --',
      'a            6',
      'longer-name  12',
    ]);
  });
});

describe('parsePartitions', () => {
  it('reads a positive integer and leaves unset as undefined', () => {
    expect(parsePartitions('12', 'LIVESCOPE_PARTITIONS')).toBe(12);
    expect(parsePartitions(undefined, 'LIVESCOPE_PARTITIONS')).toBeUndefined();
    expect(parsePartitions('', 'LIVESCOPE_PARTITIONS')).toBeUndefined();
  });

  it('names the variable when the value is not a positive integer', () => {
    for (const bad of ['0', '-3', '2.5', 'six', '06']) {
      expect(() => parsePartitions(bad, 'LIVESCOPE_PARTITIONS')).toThrow(`LIVESCOPE_PARTITIONS='${bad}' is not a positive integer`);
    }
  });
});
