/**
 * Applies the ACL plan of aclPlan.ts for one topic prefix, idempotently: missing ACLs are created,
 * present ones kept, nothing else touched (other prefixes' ACLs, ACLs added by hand). Run as a user
 * allowed to alter ACLs (the secured broker's `admin`).
 *
 *   npx tsx --conditions=livescope-source infra/provision-acls.ts [--prefix p.] [--brokers host:port]
 *       [--worker-group livescope-scope-worker] [--control-plane-group livescope-control-plane] [--quiet]
 *
 * Connection: the LIVESCOPE_KAFKA_* variables (TLS, SASL), see kafkaFromEnv.ts. Exit code 0 when
 * every ACL of the plan is in place.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import { aclPlan, describePlan, type AclEntry, type RoleAcls } from './aclPlan.js';
import { kafkaFromEnv, securityConfig } from './kafkaFromEnv.js';

// kafkajs is CommonJS; Node's named-export detection misses its enums.
const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const resourceType = { TOPIC: AclResourceTypes.TOPIC, GROUP: AclResourceTypes.GROUP } as const;
const operation = { READ: AclOperationTypes.READ, WRITE: AclOperationTypes.WRITE, DESCRIBE: AclOperationTypes.DESCRIBE, DESCRIBE_CONFIGS: AclOperationTypes.DESCRIBE_CONFIGS } as const;
const patternType = { LITERAL: ResourcePatternTypes.LITERAL, PREFIXED: ResourcePatternTypes.PREFIXED } as const;

/** An entry as kafkajs's `createAcls`/`deleteAcls` take it: allowed from any host. */
export function kafkajsAcl(a: AclEntry): {
  resourceType: (typeof resourceType)[keyof typeof resourceType];
  resourceName: string;
  resourcePatternType: (typeof patternType)[keyof typeof patternType];
  principal: string;
  host: string;
  operation: (typeof operation)[keyof typeof operation];
  permissionType: typeof AclPermissionTypes.ALLOW;
} {
  return { resourceType: resourceType[a.resourceType], resourceName: a.resourceName, resourcePatternType: patternType[a.patternType], principal: a.principal, host: '*', operation: operation[a.operation], permissionType: AclPermissionTypes.ALLOW };
}

const keyOf = (x: { resourceType: number; resourceName: string; resourcePatternType: number; principal: string; operation: number; permissionType: number; host: string }): string =>
  [x.principal, x.resourceType, x.resourcePatternType, x.resourceName, x.operation, x.permissionType, x.host].join('|');

/** The ACLs the cluster holds for the principals of `plan`, as keys. */
async function presentAcls(admin: Admin, plan: readonly RoleAcls[]): Promise<Set<string>> {
  const present = new Set<string>();
  for (const principal of new Set(plan.flatMap((r) => r.acls.map((a) => a.principal)))) {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: '*',
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    for (const r of resources) for (const a of r.acls) present.add(keyOf({ ...a, resourceType: r.resourceType, resourceName: r.resourceName, resourcePatternType: r.resourcePatternType }));
  }
  return present;
}

/** Creates what of `plan` is missing; returns how many were created and how many were there. */
export async function applyAclPlan(admin: Admin, plan: readonly RoleAcls[]): Promise<{ created: number; present: number }> {
  const wanted = plan.flatMap((r) => r.acls.map(kafkajsAcl));
  const present = await presentAcls(admin, plan);
  const missing = wanted.filter((a) => !present.has(keyOf(a)));
  if (missing.length > 0) {
    await admin.createAcls({ acl: missing });
    await waitEnforced(admin, plan, missing);
  }
  return { created: missing.length, present: wanted.length - missing.length };
}

/**
 * CreateAcls returns once the controller committed the ACLs; the broker's authorizer applies them
 * when it replays the metadata log, a moment later. A client that connects in between is refused
 * (the secured-broker test saw TOPIC_AUTHORIZATION_FAILED for a topic its role may write). The
 * broker answers DescribeAcls from that same authorizer, so this waits (bounded) until it lists them.
 */
async function waitEnforced(admin: Admin, plan: readonly RoleAcls[], created: readonly ReturnType<typeof kafkajsAcl>[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    const present = await presentAcls(admin, plan);
    const pending = created.filter((a) => !present.has(keyOf(a)));
    if (pending.length === 0) return;
    if (Date.now() + delay > deadline) throw new Error(`${pending.length} of ${created.length} ACLs created are still not listed by the broker after ${timeoutMs} ms (first: ${keyOf(pending[0]!)})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Deletes exactly the ACLs of `plan` except those `keep` also grants (tests remove their prefix's
 * ACLs when they finish, keeping the consumer-group ACLs the default prefix's plan shares).
 */
export async function removeAclPlan(admin: Admin, plan: readonly RoleAcls[], keep: readonly RoleAcls[] = []): Promise<number> {
  const kept = new Set(keep.flatMap((r) => r.acls.map((a) => keyOf(kafkajsAcl(a)))));
  const filters = plan.flatMap((r) => r.acls.map(kafkajsAcl)).filter((a) => !kept.has(keyOf(a)));
  if (filters.length === 0) return 0;
  const { filterResponses } = await admin.deleteAcls({ filters });
  return filterResponses.reduce((n, f) => n + f.matchingAcls.length, 0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      prefix: { type: 'string', default: '' },
      'worker-group': { type: 'string' },
      'control-plane-group': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const prefix = values.prefix ?? '';
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) throw new Error(`--prefix '${prefix}' may only hold letters, digits, '.', '_' and '-'`);
  const { brokers, security } = kafkaFromEnv(process.env, values.brokers);
  const plan = aclPlan({
    topicPrefix: prefix,
    ...(values['worker-group'] ? { workerGroupId: values['worker-group'] } : {}),
    ...(values['control-plane-group'] ? { controlPlaneGroupId: values['control-plane-group'] } : {}),
  });
  const kafka = new Kafka({ clientId: 'livescope-provision-acls', brokers: [...brokers], ...securityConfig(security), connectionTimeout: 10_000, retry: { retries: 6 }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const t0 = Date.now();
  await admin.connect();
  try {
    const r = await applyAclPlan(admin, plan);
    if (!values.quiet) {
      for (const line of describePlan(plan, prefix)) process.stdout.write(`  ${line}\n`);
      process.stdout.write(`ACLs: ${r.created} created, ${r.present} already present, for ${plan.length} roles under prefix '${prefix}' [${Date.now() - t0} ms]\n`);
    }
  } finally {
    await admin.disconnect();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`livescope infra: provisioning ACLs failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
