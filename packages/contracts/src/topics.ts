/**
 * Kafka topics of livescope. Every per-identity topic is keyed by identity id and has the same
 * partition count, so one worker owns an identity on all of them.
 *
 * Input is a single topic: events for one identity are totally ordered in one partition, which is
 * what makes a replay after a crash deterministic (same state, same command versions). Org-wide
 * inputs (policies, release windows, incident modes, selector orders, leaked secrets) are
 * *broadcast*: written once to every partition of the same topic, so each partition sees them in
 * a total order with its identities' events.
 */
export const Topics = {
  events: 'livescope.events.v1',
  scopeChanges: 'livescope.scope.changes.v1',
  scopeSnapshots: 'livescope.scope.snapshots.v1',
  revocations: 'livescope.scope.revocations.v1',
  driftAlerts: 'livescope.alerts.drift.v1',
  heartbeats: 'livescope.heartbeats.v1',
  enforcerAcks: 'livescope.enforcer.acks.v1',
  enforcerReports: 'livescope.enforcer.reports.v1',
  deadLetters: 'livescope.deadletter.v1',
  caepEvents: 'livescope.caep.events.v1',
  ocsfAlerts: 'livescope.alerts.ocsf.v1',
  auditHeads: 'livescope.audit.heads.v1',
} as const;
export type Topics = (typeof Topics)[keyof typeof Topics];
export type TopicName = Topics;

export type CleanupPolicy = 'delete' | 'compact';

export interface TopicSpec {
  readonly name: TopicName;
  /** `identity`: keyed by identity id and co-partitioned with the events topic. */
  readonly keying: 'identity' | 'enforcer' | 'partition' | 'none';
  readonly cleanupPolicy: CleanupPolicy;
  /** Retention in milliseconds for `delete` topics; -1 keeps forever. */
  readonly retentionMs: number;
  /**
   * `LogAppendTime`: the broker stamps every message when it appends it, so no producer chooses the
   * instant the pipeline processes an event at (the events topic). Default `CreateTime`.
   */
  readonly timestampType?: 'LogAppendTime' | 'CreateTime';
  readonly description: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const topicSpecs: readonly TopicSpec[] = [
  { name: Topics.events, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS, timestampType: 'LogAppendTime', description: 'All input events: identity lifecycle, entitlements, sessions, telemetry, secrets, relayed enforcement reports, and broadcast org-wide events (policies, org context, responder orders, leaked secrets). Broker-stamped (LogAppendTime).' },
  { name: Topics.scopeChanges, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS, description: 'Versioned scope changes: permissions added and removed with their causes, plus the full resulting scope.' },
  { name: Topics.scopeSnapshots, keying: 'identity', cleanupPolicy: 'compact', retentionMs: -1, description: 'Latest full scope per identity (compacted); enforcers bootstrap from it.' },
  { name: Topics.revocations, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS, description: 'Sessions, tokens and secret leases to kill now, naming the system that must act.' },
  { name: Topics.driftAlerts, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 30 * DAY_MS, description: 'Scope-drift alerts for the SOC.' },
  { name: Topics.heartbeats, keying: 'partition', cleanupPolicy: 'delete', retentionMs: DAY_MS, description: 'Per-partition worker heartbeats; enforcers fail closed on silence.' },
  { name: Topics.enforcerAcks, keying: 'enforcer', cleanupPolicy: 'delete', retentionMs: DAY_MS, description: 'Enforcement points report applied versions; used for revocation lag.' },
  { name: Topics.enforcerReports, keying: 'identity', cleanupPolicy: 'delete', retentionMs: DAY_MS, timestampType: 'LogAppendTime', description: 'Aggregated decision reports of enforcement points (observations only); the scope worker relays them into the events topic. Enforcement points write here and to the acknowledgements topic, never to a topic that can widen scope.' },
  { name: Topics.deadLetters, keying: 'none', cleanupPolicy: 'delete', retentionMs: 30 * DAY_MS, description: 'Input that could not be processed, with the reason and the original bytes.' },
  { name: Topics.caepEvents, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS, description: 'OpenID CAEP security event tokens derived from revocations and narrowing.' },
  { name: Topics.ocsfAlerts, keying: 'identity', cleanupPolicy: 'delete', retentionMs: 30 * DAY_MS, description: 'Drift alerts as OCSF Detection Findings for SIEM ingestion.' },
  { name: Topics.auditHeads, keying: 'partition', cleanupPolicy: 'delete', retentionMs: 365 * DAY_MS, description: 'Signed heads of the per-partition audit hash chains, published periodically: a removed tail of the audit log is detectable.' },
];

/** Default partition count of co-partitioned topics. All `identity` topics must share it. */
export const DEFAULT_PARTITIONS = 6;

export type TopicNames = { readonly [K in keyof typeof Topics]: string };

/**
 * Topic names under an optional prefix, so several isolated pipelines (tests, tenants) can share a
 * cluster. The prefix is prepended as is: `t42.` gives `t42.livescope.events.v1`.
 */
export function topicNames(prefix = ''): TopicNames {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Topics)) out[k] = `${prefix}${v}`;
  return out as TopicNames;
}

/** The registry subject of a topic's values (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;

/** Compaction only happens on closed segments: close them hourly and clean at 10 % dirty. */
export const COMPACTED_TOPIC_CONFIGS: Readonly<Record<string, string>> = {
  'min.cleanable.dirty.ratio': '0.1',
  'segment.ms': String(60 * 60 * 1000),
};

/** The Kafka topic configs a spec asks for: cleanup policy, retention, and compaction tuning. */
export function topicConfigs(spec: Pick<TopicSpec, 'cleanupPolicy' | 'retentionMs' | 'timestampType'>): Record<string, string> {
  return {
    'cleanup.policy': spec.cleanupPolicy,
    'retention.ms': String(spec.retentionMs),
    ...(spec.cleanupPolicy === 'compact' ? COMPACTED_TOPIC_CONFIGS : {}),
    ...(spec.timestampType === 'LogAppendTime' ? { 'message.timestamp.type': 'LogAppendTime' } : {}),
  };
}
