/**
 * Creates and repairs livescope's Kafka topics, idempotently: every topic of `topicSpecs` from
 * @livescope/contracts gets the partition count (never decreased), replication factor 1 and the
 * cleanup/retention configs of its spec. A second run against the same cluster changes nothing.
 *
 *   npx tsx --conditions=livescope-source infra/provision-topics.ts [--brokers host:port,...]
 *       [--partitions N] [--prefix p.] [--quiet]
 *
 * Environment: LIVESCOPE_KAFKA_BROKERS (default 127.0.0.1:9092) and the other LIVESCOPE_KAFKA_*
 * connection variables (TLS, SASL: see kafkaFromEnv.ts), LIVESCOPE_PARTITIONS (default
 * DEFAULT_PARTITIONS of @livescope/contracts). Exit code 0 when every topic is as wanted.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import { DEFAULT_PARTITIONS, topicSpecs } from '@livescope/contracts';
import type { KafkaSecurityOptions } from '@livescope/transport';
import { kafkaFromEnv, securityConfig } from './kafkaFromEnv.js';
import {
  coPartitioningWarning,
  describePlan,
  desiredTopic,
  finalPartitionCount,
  formatTable,
  isNoop,
  parsePartitions,
  planTopic,
  type ActualTopic,
  type DesiredTopic,
  type TopicPlan,
  type TopicSpecLike,
} from './topicPlan.js';

// kafkajs is CommonJS and Node's named-export detection misses these two enums: read them off
// the module object.
const { ConfigResourceTypes, ConfigSource } = kafkajs;

export interface ProvisionedTopic {
  readonly topic: string;
  readonly partitions: number;
  readonly cleanupPolicy: string;
  readonly retentionMs: string;
  /** created | unchanged | updated */
  readonly action: 'created' | 'unchanged' | 'updated';
  readonly detail: string;
  readonly warnings: readonly string[];
}

export interface ProvisionResult {
  readonly topics: readonly ProvisionedTopic[];
  readonly warnings: readonly string[];
  /** True when nothing had to be created or changed. */
  readonly unchanged: boolean;
}

export interface ProvisionOptions {
  /** Replication factor of created topics. Default 1 (one local broker). */
  readonly replicationFactor?: number;
  /** kafkajs client id. Default `livescope-provision`. */
  readonly clientId?: string;
  /** Print the table through `log` (default true). */
  readonly printTable?: boolean;
  /** TLS and SASL (an admin user on a cluster that authorizes). Default: plaintext, anonymous. */
  readonly security?: KafkaSecurityOptions;
}

/**
 * Makes every topic of `specs` exist as described, on the cluster at `brokers`, and returns what
 * it did. `log` receives human-readable lines (the table and warnings).
 */
export async function provisionTopics(
  brokers: readonly string[],
  specs: readonly TopicSpecLike[],
  partitions: number,
  log: (line: string) => void,
  options: ProvisionOptions = {},
): Promise<ProvisionResult> {
  const replicationFactor = options.replicationFactor ?? 1;
  const desired = specs.map((s) => desiredTopic(s, partitions, replicationFactor));
  const kafka = new Kafka({
    clientId: options.clientId ?? 'livescope-provision',
    brokers: [...brokers],
    ...securityConfig(options.security),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 6 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const actual = await readTopics(admin, desired.map((d) => d.name));
    const plans = desired.map((d) => planTopic(d, actual.get(d.name)));
    await applyPlans(admin, plans);

    const finals = new Map(plans.map((p) => [p.name, finalPartitionCount(p, actual.get(p.name))]));
    const warnings: string[] = [];
    const co = coPartitioningWarning(desired, finals);
    if (co !== undefined) warnings.push(co);

    const topics = plans.map((p, i): ProvisionedTopic => {
      const d = desired[i] as DesiredTopic;
      return {
        topic: p.name,
        partitions: finals.get(p.name) ?? d.partitions,
        cleanupPolicy: d.configs['cleanup.policy'] ?? '',
        retentionMs: d.configs['retention.ms'] ?? '',
        action: p.create ? 'created' : isNoop(p) ? 'unchanged' : 'updated',
        detail: describePlan(p),
        warnings: p.warnings,
      };
    });
    if (options.printTable ?? true) {
      log(
        formatTable(
          ['topic', 'partitions', 'cleanup', 'retention.ms', 'result'],
          topics.map((t) => [t.topic, String(t.partitions), t.cleanupPolicy, t.retentionMs, t.detail]),
        ),
      );
    }
    for (const t of topics) for (const w of t.warnings) log(`warning: ${t.topic}: ${w}`);
    for (const w of warnings) log(`warning: ${w}`);
    return { topics, warnings: [...warnings, ...topics.flatMap((t) => t.warnings.map((w) => `${t.topic}: ${w}`))], unchanged: topics.every((t) => t.action === 'unchanged') };
  } finally {
    await admin.disconnect();
  }
}

async function readTopics(admin: Admin, names: readonly string[]): Promise<Map<string, ActualTopic>> {
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  const out = new Map<string, ActualTopic>();
  if (present.length === 0) return out;

  const { topics } = await admin.fetchTopicMetadata({ topics: present });
  const described = await admin.describeConfigs({
    resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    includeSynonyms: false,
  });
  const configsByTopic = new Map(described.resources.map((r) => [r.resourceName, r]));
  for (const t of topics) {
    const res = configsByTopic.get(t.name);
    if (res && res.errorCode !== 0) throw new Error(`describeConfigs ${t.name}: ${res.errorMessage} (code ${res.errorCode})`);
    out.set(t.name, {
      name: t.name,
      partitions: t.partitions.length,
      replicationFactor: Math.max(0, ...t.partitions.map((p) => p.replicas.length)),
      configs: (res?.configEntries ?? []).map((c) => ({
        name: c.configName,
        value: c.isSensitive ? null : c.configValue,
        isTopicOverride: c.configSource === ConfigSource.TOPIC_CONFIG,
      })),
    });
  }
  return out;
}

async function applyPlans(admin: Admin, plans: readonly TopicPlan[]): Promise<void> {
  const creates = plans.flatMap((p) => (p.create ? [p.create] : []));
  if (creates.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: creates.map((d) => ({
        topic: d.name,
        numPartitions: d.partitions,
        replicationFactor: d.replicationFactor,
        configEntries: Object.entries(d.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const grows = plans.flatMap((p) => (p.addPartitions ? [{ topic: p.name, count: p.addPartitions.to }] : []));
  if (grows.length > 0) await admin.createPartitions({ topicPartitions: grows });
  const alters = plans.flatMap((p) => (p.alterConfigs ? [{ name: p.name, configs: p.alterConfigs }] : []));
  if (alters.length > 0) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: alters.map((a) => ({
        type: ConfigResourceTypes.TOPIC,
        name: a.name,
        configEntries: Object.entries(a.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      partitions: { type: 'string' },
      prefix: { type: 'string', default: '' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const { brokers, security } = kafkaFromEnv(process.env, values.brokers);
  const partitions =
    parsePartitions(values.partitions, '--partitions') ?? parsePartitions(process.env.LIVESCOPE_PARTITIONS, 'LIVESCOPE_PARTITIONS') ?? DEFAULT_PARTITIONS;
  const prefix = values.prefix ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) throw new Error(`--prefix '${prefix}' may only hold letters, digits, '.', '_' and '-'`);
  const specs = topicSpecs.map((s) => ({ ...s, name: `${prefix}${s.name}` }));

  const lines: string[] = [];
  const t0 = Date.now();
  const result = await provisionTopics(brokers, specs, partitions, (l) => lines.push(l), { security });
  const changed = result.topics.filter((t) => t.action !== 'unchanged').length;
  const summary = result.unchanged
    ? `Topics: all ${result.topics.length} as wanted (${partitions} partitions), nothing to do [${Date.now() - t0} ms]`
    : `Topics: ${changed} of ${result.topics.length} created or updated (${partitions} partitions) [${Date.now() - t0} ms]`;
  if (values.quiet) {
    for (const l of lines) if (l.startsWith('warning:')) process.stderr.write(`livescope infra: ${l}\n`);
  } else {
    for (const l of lines) (l.startsWith('warning:') ? process.stderr : process.stdout).write(`${l}\n`);
    process.stdout.write(`${summary}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`livescope infra: provisioning topics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
