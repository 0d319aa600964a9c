import { topicConfigs } from '@livescope/contracts';
/**
 * The pure half of topic provisioning: what a topic should look like, what it looks like now, and
 * the changes between the two. No I/O here; provision-topics.ts reads the cluster and applies.
 */

/** What provisioning needs of a topic spec (a subset of `TopicSpec` from @livescope/contracts). */
export interface TopicSpecLike {
  readonly name: string;
  readonly keying?: string;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Retention in milliseconds; -1 keeps forever. */
  readonly retentionMs: number;
}

export interface DesiredTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic-level configs this provisioning owns, as Kafka strings. */
  readonly configs: Readonly<Record<string, string>>;
  readonly keying?: string;
}

export interface ActualConfigEntry {
  readonly name: string;
  /** The effective value (an override or the broker default); null for sensitive entries. */
  readonly value: string | null;
  /** True when the value is a topic-level override (ConfigSource TOPIC_CONFIG). */
  readonly isTopicOverride: boolean;
}

export interface ActualTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: readonly ActualConfigEntry[];
}

export interface ConfigChange {
  readonly name: string;
  readonly from: string | null;
  readonly to: string;
}

export interface TopicPlan {
  readonly name: string;
  /** Set when the topic does not exist: create it like this. */
  readonly create?: DesiredTopic;
  /** Set when the topic has fewer partitions than desired. */
  readonly addPartitions?: { readonly from: number; readonly to: number };
  readonly configChanges: readonly ConfigChange[];
  /**
   * When configs change: the complete set of topic overrides to send with AlterConfigs, which
   * replaces all overrides of a topic. It keeps the overrides we do not own.
   */
  readonly alterConfigs?: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

export function desiredTopic(spec: TopicSpecLike, partitions: number, replicationFactor = 1): DesiredTopic {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const configs = topicConfigs(spec);
  return { name: spec.name, partitions, replicationFactor, configs, ...(spec.keying === undefined ? {} : { keying: spec.keying }) };
}

/** Kafka list values ("compact,delete") compare as sets; everything else as trimmed strings. */
export function sameConfigValue(name: string, a: string | null, b: string): boolean {
  if (a === null) return false;
  if (name === 'cleanup.policy') {
    const norm = (v: string): string => v.split(',').map((s) => s.trim()).filter(Boolean).sort().join(',');
    return norm(a) === norm(b);
  }
  return a.trim() === b.trim();
}

export function planTopic(desired: DesiredTopic, actual: ActualTopic | undefined): TopicPlan {
  if (actual === undefined) return { name: desired.name, create: desired, configChanges: [], warnings: [] };

  const warnings: string[] = [];
  let addPartitions: TopicPlan['addPartitions'];
  if (actual.partitions < desired.partitions) {
    addPartitions = { from: actual.partitions, to: desired.partitions };
    if (desired.keying !== undefined && desired.keying !== 'none') {
      warnings.push(`partitions ${actual.partitions} -> ${desired.partitions}: existing keys may now map to other partitions`);
    }
  } else if (actual.partitions > desired.partitions) {
    warnings.push(`has ${actual.partitions} partitions, more than the ${desired.partitions} wanted; kept (partitions are never removed)`);
  }
  if (actual.replicationFactor !== desired.replicationFactor) {
    warnings.push(`replication factor ${actual.replicationFactor}, not ${desired.replicationFactor}; kept (changing it needs a reassignment)`);
  }

  const byName = new Map(actual.configs.map((c) => [c.name, c]));
  const configChanges: ConfigChange[] = [];
  for (const [name, to] of Object.entries(desired.configs)) {
    const from = byName.get(name)?.value ?? null;
    if (!sameConfigValue(name, from, to)) configChanges.push({ name, from, to });
  }

  let alterConfigs: Record<string, string> | undefined;
  if (configChanges.length > 0) {
    alterConfigs = {};
    for (const c of actual.configs) {
      if (c.isTopicOverride && c.value !== null && !(c.name in desired.configs)) alterConfigs[c.name] = c.value;
    }
    Object.assign(alterConfigs, desired.configs);
  }

  return {
    name: desired.name,
    ...(addPartitions ? { addPartitions } : {}),
    configChanges,
    ...(alterConfigs ? { alterConfigs } : {}),
    warnings,
  };
}

export function isNoop(plan: TopicPlan): boolean {
  return plan.create === undefined && plan.addPartitions === undefined && plan.configChanges.length === 0;
}

/**
 * Topics keyed by identity must keep one partition count, or one worker no longer owns an
 * identity on all of them. `finalPartitions` is what each topic has after the plan is applied.
 */
export function coPartitioningWarning(desired: readonly DesiredTopic[], finalPartitions: ReadonlyMap<string, number>): string | undefined {
  const counts = new Map<number, string[]>();
  for (const d of desired) {
    if (d.keying !== 'identity') continue;
    const n = finalPartitions.get(d.name) ?? d.partitions;
    counts.set(n, [...(counts.get(n) ?? []), d.name]);
  }
  if (counts.size <= 1) return undefined;
  const parts = [...counts.entries()].map(([n, names]) => `${n}: ${names.join(', ')}`);
  return `identity-keyed topics are not co-partitioned (${parts.join('; ')}); recreate them with one partition count`;
}

/** The partition count each topic ends with once a plan is applied (partitions never shrink). */
export function finalPartitionCount(plan: TopicPlan, actual: ActualTopic | undefined): number {
  if (plan.create) return plan.create.partitions;
  if (plan.addPartitions) return plan.addPartitions.to;
  return actual?.partitions ?? 0;
}

/** One line per topic, for the table provision-topics.ts prints. */
export function describePlan(plan: TopicPlan): string {
  if (plan.create) return 'created';
  const parts: string[] = [];
  if (plan.addPartitions) parts.push(`partitions ${plan.addPartitions.from} -> ${plan.addPartitions.to}`);
  for (const c of plan.configChanges) parts.push(`${c.name} ${c.from ?? '(unset)'} -> ${c.to}`);
  if (parts.length === 0) return 'ok, unchanged';
  return `updated: ${parts.join(', ')}`;
}

/** A plain-text table: columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Parses a partition count given as text (LIVESCOPE_PARTITIONS, --partitions); undefined when unset. */
export function parsePartitions(raw: string | undefined, source: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[1-9][0-9]*$/.test(raw)) throw new Error(`${source}='${raw}' is not a positive integer`);
  return Number(raw);
}
