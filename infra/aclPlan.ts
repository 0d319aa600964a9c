import { topicNames, type TopicNames } from '@livescope/contracts';
/**
 * The ACLs of every livescope role on a cluster that authorizes (StandardAuthorizer with
 * `allow.everyone.if.no.acl.found=false`), as data: one pure function of the topic prefix.
 * provision-acls.ts applies it (infra/start.sh --secure for the default prefix, tests for theirs);
 * docs/operations.md shows it as a table. Kafka grants DESCRIBE with READ or WRITE, so DESCRIBE is
 * listed only where nothing else is granted.
 *
 * The trust boundary it encodes (docs/guarantees.md, DESIGN "Who may widen"): the events topic is
 * the only input that can widen a scope, so only the scope worker (its report relay), the control
 * plane (orders, policies), the ingest/interop service (observations) and the simulator write it;
 * enforcement points write their reports, acknowledgements and rejected-command alerts, nothing else.
 */

export const ROLES = ['scope-worker', 'control-plane', 'interop', 'simulator', 'enforcer'] as const;
export type Role = (typeof ROLES)[number];

/** The one super user of a livescope-provisioned cluster: provisioning, tools, tests' setup. */
export const ADMIN_USER = 'admin';

export type TopicKey = keyof TopicNames;
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'DESCRIBE_CONFIGS';

export interface AclEntry {
  /** `User:<name>`. */
  readonly principal: string;
  readonly resourceType: 'TOPIC' | 'GROUP';
  readonly resourceName: string;
  readonly patternType: 'LITERAL' | 'PREFIXED';
  readonly operation: AclOperation;
}

export interface RoleAcls {
  readonly role: Role;
  readonly user: string;
  readonly acls: readonly AclEntry[];
}

export interface AclPlanOptions {
  /** Prefix of every topic (LIVESCOPE_TOPIC_PREFIX). */
  readonly topicPrefix: string;
  /** Kafka user of each role. Default: the role's name (`scope-worker`, `enforcer`, …). */
  readonly users?: Partial<Readonly<Record<Role, string>>>;
  /** The scope workers' consumer group (LIVESCOPE_GROUP_ID). Default `livescope-scope-worker`. */
  readonly workerGroupId?: string;
  /** The control plane's consumer group, also the prefix of its followers' groups (LIVESCOPE_API_GROUP_ID). Default `livescope-control-plane`. */
  readonly controlPlaneGroupId?: string;
}

interface RoleAccess {
  readonly read: readonly TopicKey[];
  readonly write: readonly TopicKey[];
  /** Metadata only (partition counts), where neither READ nor WRITE is granted. */
  readonly describe: readonly TopicKey[];
  /** Topic configurations it reads (the worker checks that the events topic is broker-stamped). */
  readonly describeConfigs?: readonly TopicKey[];
  /** Consumer groups the role joins, by the ids the code really uses. */
  readonly groups: (o: Required<Pick<AclPlanOptions, 'topicPrefix' | 'workerGroupId' | 'controlPlaneGroupId'>>) => ReadonlyArray<{ name: string; pattern: 'LITERAL' | 'PREFIXED' }>;
}

/**
 * Who reads and writes what. Each line names where the code does it, so a change there shows here.
 */
export const ROLE_ACCESS: Readonly<Record<Role, RoleAccess>> = {
  // services/scope-worker: consumes events (and, relayed into events, enforcer reports); writes every command topic,
  // alerts, heartbeats, dead letters and audit heads, and events (the report relay).
  'scope-worker': {
    read: ['events', 'enforcerReports'],
    write: ['events', 'scopeChanges', 'scopeSnapshots', 'revocations', 'driftAlerts', 'heartbeats', 'deadLetters', 'auditHeads'],
    describe: [],
    // At start the worker refuses an events topic producers may date (message.timestamp.type must be LogAppendTime).
    describeConfigs: ['events'],
    // The report relay's group is `<worker group>-report-relay`.
    groups: (o) => [
      { name: o.workerGroupId, pattern: 'LITERAL' },
      { name: `${o.workerGroupId}-report-relay`, pattern: 'LITERAL' },
    ],
  },
  // services/control-plane: orders, lifts and policies into events (EventSender); CommandFollower reads changes,
  // revocations and acks in `<group>-follower-<uuid>` groups; PgOffsetConsumer reads alerts and acks in `<group>`.
  // Heartbeats, dead letters and audit heads: the operator views that follow them.
  'control-plane': {
    read: ['scopeChanges', 'revocations', 'enforcerAcks', 'driftAlerts', 'heartbeats', 'deadLetters', 'auditHeads'],
    write: ['events'],
    describe: [],
    groups: (o) => [{ name: o.controlPlaneGroupId, pattern: 'PREFIXED' }],
  },
  // services/interop: livescope-ingest and the SSF receiver publish observations to events (KafkaContext) and
  // dead letters; CaepBridge reads changes and revocations and writes CAEP SETs; OcsfBridge reads drift alerts and
  // writes OCSF findings. Groups `<prefix>livescope-interop-caep` and `-ocsf`.
  interop: {
    read: ['scopeChanges', 'revocations', 'driftAlerts'],
    write: ['events', 'caepEvents', 'ocsfAlerts', 'deadLetters'],
    describe: [],
    groups: (o) => [{ name: `${o.topicPrefix}livescope-interop-`, pattern: 'PREFIXED' }],
  },
  // services/simulator: publishes the synthetic fleet to events; `play` and `demo` follow changes, revocations,
  // alerts and dead letters in `livescope-feed-<uuid>` groups.
  simulator: {
    read: ['scopeChanges', 'revocations', 'driftAlerts', 'deadLetters'],
    write: ['events'],
    describe: [],
    groups: () => [{ name: 'livescope-feed-', pattern: 'PREFIXED' }],
  },
  // packages/enforcer: bootstraps from snapshots, follows changes, revocations, heartbeats (and audit heads);
  // writes decision reports, acknowledgements and alerts about rejected commands. Never events. DESCRIBE on
  // events: the SDK reads its partition count (identity → partition for staleness). Groups
  // `livescope-enforcer-<id>-<uuid>`.
  enforcer: {
    read: ['scopeChanges', 'scopeSnapshots', 'revocations', 'heartbeats', 'auditHeads'],
    write: ['enforcerReports', 'enforcerAcks', 'driftAlerts'],
    describe: ['events'],
    groups: () => [{ name: 'livescope-enforcer-', pattern: 'PREFIXED' }],
  },
};

/** The ACLs of every role for the topics under `topicPrefix`: what provisioning applies. */
export function aclPlan(options: AclPlanOptions): RoleAcls[] {
  const topics = topicNames(options.topicPrefix);
  const o = { topicPrefix: options.topicPrefix, workerGroupId: options.workerGroupId ?? 'livescope-scope-worker', controlPlaneGroupId: options.controlPlaneGroupId ?? 'livescope-control-plane' };
  return ROLES.map((role) => {
    const user = options.users?.[role] ?? role;
    const principal = `User:${user}`;
    const access = ROLE_ACCESS[role];
    const topic = (key: TopicKey, operation: AclOperation): AclEntry => ({ principal, resourceType: 'TOPIC', resourceName: topics[key], patternType: 'LITERAL', operation });
    const acls: AclEntry[] = [
      ...access.read.map((k) => topic(k, 'READ')),
      ...access.write.map((k) => topic(k, 'WRITE')),
      ...access.describe.map((k) => topic(k, 'DESCRIBE')),
      ...(access.describeConfigs ?? []).map((k) => topic(k, 'DESCRIBE_CONFIGS')),
      ...access.groups(o).map((g): AclEntry => ({ principal, resourceType: 'GROUP', resourceName: g.name, patternType: g.pattern, operation: 'READ' })),
    ];
    return { role, user, acls };
  });
}

/** Whether `plan` lets `principal` do `operation` on `topic` (LITERAL and PREFIXED topic ACLs; READ/WRITE imply DESCRIBE). */
export function allows(plan: readonly RoleAcls[], principal: string, operation: AclOperation, topic: string): boolean {
  return plan.some((r) =>
    r.acls.some(
      (a) =>
        a.principal === principal &&
        a.resourceType === 'TOPIC' &&
        (a.patternType === 'LITERAL' ? a.resourceName === topic : topic.startsWith(a.resourceName)) &&
        (a.operation === operation || (operation === 'DESCRIBE' && (a.operation === 'READ' || a.operation === 'WRITE'))),
    ),
  );
}

/** The roles whose users may `operation` the topic `key` under `topicPrefix`. */
export function rolesAllowed(plan: readonly RoleAcls[], operation: AclOperation, topic: string): Role[] {
  return plan.filter((r) => allows([r], `User:${r.user}`, operation, topic)).map((r) => r.role);
}

/** One line per role and operation, for the provisioning output and the docs. */
export function describePlan(plan: readonly RoleAcls[], topicPrefix: string): string[] {
  const short = (name: string): string => (name.startsWith(topicPrefix) ? name.slice(topicPrefix.length) : name);
  return plan.map((r) => {
    const by = (op: AclOperation, type: 'TOPIC' | 'GROUP'): string =>
      r.acls
        .filter((a) => a.operation === op && a.resourceType === type)
        .map((a) => `${short(a.resourceName)}${a.patternType === 'PREFIXED' ? '*' : ''}`)
        .join(', ');
    const parts = [`read ${by('READ', 'TOPIC') || '-'}`, `write ${by('WRITE', 'TOPIC') || '-'}`];
    const d = by('DESCRIBE', 'TOPIC');
    if (d) parts.push(`describe ${d}`);
    parts.push(`groups ${by('READ', 'GROUP') || '-'}`);
    return `${r.role} (User:${r.user}): ${parts.join('; ')}`;
  });
}

/**
 * The plan as a Markdown table, topics down, roles across (R read, W write, D describe only), then
 * the consumer groups: docs/operations.md holds it between `<!-- acl-plan -->` markers
 * (`npm run docs:config` refreshes it, a unit test compares).
 */
export function aclTable(plan: readonly RoleAcls[], topicPrefix = ''): string {
  const topics = topicNames(topicPrefix);
  const cell = (r: RoleAcls, topic: string): string => {
    const ops = new Set(r.acls.filter((a) => a.resourceType === 'TOPIC' && a.resourceName === topic).map((a) => a.operation));
    return [ops.has('READ') ? 'R' : '', ops.has('WRITE') ? 'W' : '', ops.has('DESCRIBE') ? 'D' : ''].join('') || '—';
  };
  const rows = Object.values(topics).map((t) => `| \`${t}\` | ${plan.map((r) => cell(r, t)).join(' | ')} |`);
  const groups = plan.map((r) =>
    r.acls
      .filter((a) => a.resourceType === 'GROUP')
      .map((a) => `\`${a.resourceName}${a.patternType === 'PREFIXED' ? '*' : ''}\``)
      .join(', '),
  );
  return [
    `| topic | ${plan.map((r) => `${r.role} (\`User:${r.user}\`)`).join(' | ')} |`,
    `|---|${plan.map(() => '---').join('|')}|`,
    ...rows,
    `| consumer groups (READ) | ${groups.join(' | ')} |`,
  ].join('\n');
}
