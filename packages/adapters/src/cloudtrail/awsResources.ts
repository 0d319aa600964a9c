import type { CloudTrailEvent } from './CloudTrailEvent.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const MAX_RESOURCES = 16;

/**
 * Builders of ARNs from well-known request parameters, by parameter name. Each takes the value and
 * the event's region, account and service (the part of `eventSource` before the first dot).
 */
type Ctx = { readonly region: string; readonly account: string; readonly service: string };
const FROM_PARAMETER: readonly (readonly [string, (v: string, c: Ctx) => string])[] = [
  ['secretId', (v, c) => (v.startsWith('arn:') ? v : `arn:aws:secretsmanager:${c.region}:${c.account}:secret:${v}`)],
  ['roleArn', (v) => v],
  ['policyArn', (v) => v],
  ['topicArn', (v) => v],
  ['resourceArn', (v) => v],
  ['functionName', (v, c) => (v.startsWith('arn:') ? v : `arn:aws:lambda:${c.region}:${c.account}:function:${v}`)],
  ['tableName', (v, c) => (v.startsWith('arn:') ? v : `arn:aws:dynamodb:${c.region}:${c.account}:table/${v}`)],
  ['queueUrl', (v) => v],
  ['keyId', (v, c) => (v.startsWith('arn:') ? v : `arn:aws:kms:${c.region}:${c.account}:key/${v}`)],
  ['logGroupName', (v, c) => `arn:aws:logs:${c.region}:${c.account}:log-group:${v}`],
  ['repositoryName', (v, c) => `arn:aws:ecr:${c.region}:${c.account}:repository/${v}`],
  ['stackName', (v, c) => (v.startsWith('arn:') ? v : `arn:aws:cloudformation:${c.region}:${c.account}:stack/${v}`)],
  ['dBInstanceIdentifier', (v, c) => `arn:aws:rds:${c.region}:${c.account}:db:${v}`],
  ['roleName', (v, c) => `arn:aws:iam::${c.account}:role/${v}`],
  ['userName', (v, c) => `arn:aws:iam::${c.account}:user/${v}`],
  ['groupName', (v, c) => `arn:aws:iam::${c.account}:group/${v}`],
  ['instanceId', (v, c) => `arn:aws:ec2:${c.region}:${c.account}:instance/${v}`],
  ['clusterName', (v, c) => `arn:aws:eks:${c.region}:${c.account}:cluster/${v}`],
];

/** `name` means different things per service; these are the ones whose meaning is unambiguous. */
const NAME_BY_SERVICE: Readonly<Record<string, (v: string, c: Ctx) => string>> = {
  eks: (v, c) => `arn:aws:eks:${c.region}:${c.account}:cluster/${v}`,
  ssm: (v, c) => (v.startsWith('arn:') ? v : `arn:aws:ssm:${c.region}:${c.account}:parameter${v.startsWith('/') ? '' : '/'}${v}`),
  secretsmanager: (v, c) => (v.startsWith('arn:') ? v : `arn:aws:secretsmanager:${c.region}:${c.account}:secret:${v}`),
  ecs: (v, c) => `arn:aws:ecs:${c.region}:${c.account}:cluster/${v}`,
  codebuild: (v, c) => `arn:aws:codebuild:${c.region}:${c.account}:project/${v}`,
};

/** Instance ids of EC2's `instancesSet` (`{items: [{instanceId}]}`) and of `instanceIds` lists. */
function instanceIds(p: Record<string, unknown>): string[] {
  const out: string[] = [];
  const set = p.instancesSet as { items?: unknown } | undefined;
  if (set && Array.isArray(set.items)) for (const i of set.items) if (str((i as { instanceId?: unknown })?.instanceId)) out.push((i as { instanceId: string }).instanceId);
  if (Array.isArray(p.instanceIds)) for (const i of p.instanceIds) if (str(i)) out.push(i as string);
  return out;
}

/**
 * The resources an event acted on: every `resources[]` ARN, else ARNs built from well-known request
 * parameters (EC2 instance sets, EKS cluster names, S3 buckets and keys, Lambda functions, IAM
 * roles…), at most 16. An event that names none acted on the service as a whole:
 * `arn:aws:<service>:<region>:<account>:*` (List/Describe calls), never a bare `*`.
 */
export function awsResources(e: CloudTrailEvent): string[] {
  const out = new Set<string>();
  for (const r of e.resources ?? []) {
    const arn = r.ARN ?? r.arn;
    if (arn) out.add(arn);
  }
  const p = e.requestParameters ?? {};
  const c: Ctx = { region: e.awsRegion ?? '', account: e.recipientAccountId ?? e.userIdentity.accountId ?? '', service: e.eventSource.split('.')[0]! };
  if (out.size === 0) {
    for (const id of instanceIds(p)) out.add(`arn:aws:ec2:${c.region}:${c.account}:instance/${id}`);
    const bucket = str(p.bucketName);
    if (bucket) out.add(str(p.key) ? `arn:aws:s3:::${bucket}/${str(p.key)}` : `arn:aws:s3:::${bucket}`);
    for (const [name, build] of FROM_PARAMETER) {
      const v = str(p[name]);
      if (v) out.add(build(v, c));
    }
    const name = str(p.name);
    const byService = NAME_BY_SERVICE[c.service];
    if (name && byService) out.add(byService(name, c));
    if (Array.isArray(p.names) && c.service === 'ssm') for (const n of p.names) if (str(n)) out.add(NAME_BY_SERVICE.ssm!(n as string, c));
    if (name && out.size === 0) out.add(name);
  }
  if (out.size === 0) out.add(`arn:aws:${c.service}:${c.region}:${c.account}:*`);
  return [...out].slice(0, MAX_RESOURCES).map((r) => (r.length > 512 ? r.slice(0, 512) : r));
}
