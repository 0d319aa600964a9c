import { Instant, PolicyFile } from '@livescope/contracts';
import { z } from 'zod';
import { NextCursor, pageQuery } from '../../http/pagination.js';
import { component, Reason } from '../../http/schemas.js';

/** Requests and answers of the policies API: validate, test, diff, impact, publish, approve, history, rollback. */

export const PolicyFiles = z.array(PolicyFile).min(1).max(512).describe('The policy set: one entry per `.cedar` file, `id` = the file name without `.cedar`.');
const Version = z.coerce.number().int().min(1).describe('Version of a published policy set.');

export const VersionParams = z.object({ version: Version });
export const RequestParams = z.object({ requestId: z.string().min(1).max(64).describe('Publication request id.') });

export const FilesRequest = component('PolicyFilesRequest', z.strictObject({ files: PolicyFiles }));

const Problem = z.object({
  file: z.string().optional().describe('The file (its id) the problem is in.'),
  policyId: z.string().optional(),
  line: z.number().int().optional().describe('1-based line in the file.'),
  column: z.number().int().optional().describe('1-based column (UTF-16 code units).'),
  code: z.string().describe('POLICY_PARSE, POLICY_VALIDATION, POLICY_LINK, POLICY_EMPTY…'),
  message: z.string(),
  help: z.string().optional(),
});

export const ValidationResult = component(
  'PolicyValidation',
  z.object({
    valid: z.boolean(),
    hash: z.string().describe('Content hash of the set (sha256 of its files sorted by id): what publication is idempotent by.'),
    problems: z.array(Problem),
    policies: z.array(z.object({ id: z.string(), effect: z.string(), file: z.string() })),
  }),
);

export const TestRequest = component(
  'PolicyTestRequest',
  z.strictObject({
    files: PolicyFiles,
    suites: z
      .array(z.strictObject({ name: z.string().min(1).max(512).describe('The test file name, for reports.'), content: z.unknown().describe('The test file (JSON) as documented in docs/policies.md#policy-tests.') }))
      .min(1)
      .max(256),
  }),
);

const CaseResult = z.object({
  suite: z.string(),
  test: z.string(),
  action: z.string(),
  resource: z.string(),
  expected: z.enum(['allow', 'deny']),
  actual: z.enum(['allow', 'deny']),
  expectedDetermining: z.array(z.string()).optional(),
  determining: z.array(z.string()),
  passed: z.boolean(),
  message: z.string(),
});

export const TestResult = component(
  'PolicyTestResult',
  z.object({
    passed: z.number().int(),
    failed: z.number().int(),
    results: z.array(CaseResult),
  }),
);

/** A set named by version (published) or given as files. */
const SetRef = z.union([z.strictObject({ version: z.number().int().min(1) }), z.strictObject({ files: PolicyFiles })]);

export const DiffRequest = component(
  'PolicyDiffRequest',
  z.strictObject({
    from: SetRef.optional().describe('Default: the set in force.'),
    to: SetRef,
    fleet: z.boolean().default(true).describe('Also compute, over the live fleet, which (action, resource) pairs change for which kinds of identity.'),
  }),
);

const Summary = z.object({ id: z.string(), effect: z.string(), principal: z.string(), action: z.string(), resource: z.string(), reads: z.array(z.string()) });

const Pair = z.object({ action: z.string(), resource: z.string(), kind: z.string(), gained: z.number().int(), lost: z.number().int() });

export const DiffResult = component(
  'PolicyDiff',
  z.object({
    from: z.object({ version: z.number().int().nullable(), hash: z.string() }),
    to: z.object({ version: z.number().int().nullable(), hash: z.string() }),
    identical: z.boolean(),
    files: z.array(
      z.object({
        file: z.string(),
        change: z.enum(['added', 'removed', 'modified']),
        hunks: z.array(z.object({ fromLine: z.number().int(), toLine: z.number().int(), lines: z.array(z.object({ op: z.enum([' ', '+', '-']), text: z.string() })) })),
      }),
    ),
    policies: z.array(
      z.object({
        id: z.string(),
        change: z.enum(['added', 'removed', 'modified']),
        before: Summary.optional(),
        after: Summary.optional(),
        changed: z.array(z.enum(['effect', 'principal', 'action', 'resource', 'conditions'])).optional(),
      }),
    ),
    pairs: z.array(Pair).nullable().describe('Per kind of identity, the (action, resource) pairs whose decision changes on the live fleet; null when not asked.'),
    pairsTruncated: z.boolean(),
  }),
);

export const ImpactRequest = component(
  'PolicyImpactRequest',
  z.strictObject({
    files: PolicyFiles.optional().describe('The candidate set; or `version` to preview a rollback.'),
    version: z.number().int().min(1).optional(),
    limit: z.number().int().min(0).max(10_000).default(500).describe('Changed identities listed in full (the counts cover all of them).'),
    namespace: z.string().min(1).max(256).optional().describe('List only changed identities of this namespace (drill-down); counts stay fleet-wide.'),
    kind: z.string().min(1).max(64).optional().describe('List only changed identities of this kind.'),
  }),
);

const Counts = {
  identities: z.number().int(),
  changed: z.number().int(),
  widened: z.number().int(),
  narrowed: z.number().int(),
  gained: z.number().int(),
  lost: z.number().int(),
  losingEverything: z.number().int(),
};
const ImpactPermission = z.object({ action: z.string(), resource: z.string(), access: z.enum(['read', 'write', 'admin']), sessions: z.array(z.string()).optional() });

export const ImpactResult = component(
  'PolicyImpact',
  z.object({
    at: Instant.describe('The instant both scopes were computed at.'),
    inForce: z.object({ version: z.number().int().nullable().describe('null: no set published (every provisioned permission is in scope)'), hash: z.string().nullable() }),
    candidate: z.object({ version: z.number().int().nullable(), hash: z.string() }),
    /** Partitions whose workers hold another version than the first: a publication is still being applied. */
    partitionsBehind: z.array(z.number().int()),
    durationMs: z.number().int(),
    scanned: z.number().int(),
    computed: z.number().int().describe('Identities checked against the scopes of the changed policies (every identity scanned, unless no policy changed but for comments or layout: then 0).'),
    totals: z.object(Counts),
    byNamespace: z.array(z.object({ namespace: z.string(), ...Counts })),
    byKind: z.array(z.object({ kind: z.string(), ...Counts })),
    pairs: z.array(Pair),
    pairsTruncated: z.boolean(),
    identities: z.array(
      z.object({
        identityId: z.string(),
        kind: z.string(),
        namespace: z.string(),
        name: z.string(),
        before: z.number().int(),
        after: z.number().int(),
        gained: z.array(ImpactPermission),
        lost: z.array(ImpactPermission),
        rebound: z.array(ImpactPermission),
        losesEverything: z.boolean(),
      }),
    ),
    identitiesTruncated: z.boolean(),
  }),
);

export const PublishRequest = component(
  'PolicyPublishRequest',
  z.strictObject({
    files: PolicyFiles,
    reason: Reason.optional(),
    requireApproval: z.boolean().default(false).describe('Hold the publication until a second admin approves it (always, when the server requires it).'),
  }),
);

export const RollbackRequest = component(
  'PolicyRollbackRequest',
  z.strictObject({ version: z.number().int().min(1).describe('The published version whose files become the set in force again, as a new version.'), reason: Reason.optional(), requireApproval: z.boolean().default(false) }),
);

export const DecisionRequest = component('PolicyDecisionRequest', z.strictObject({ reason: Reason.optional() }));

export const Publication = component(
  'PolicyPublication',
  z.object({
    requestId: z.string().nullable().describe('null only for `unchanged` when the set in force was not published through this API.'),
    status: z.enum(['pending', 'published', 'rejected', 'unchanged']).describe('`unchanged`: the set in force already has this content (idempotent); `pending`: waits for a second admin.'),
    hash: z.string(),
    version: z.number().int().nullable().describe('The version published (or in force, when unchanged).'),
    eventId: z.string().nullable(),
    requestedBy: z.string(),
    requestedAt: Instant,
    approvedBy: z.string().nullable(),
    decidedAt: Instant.nullable(),
    rollbackOf: z.number().int().nullable(),
    reason: z.string().nullable(),
    files: z.number().int().describe('Number of files.'),
  }),
);

export const PublicationsList = component('PolicyPublications', z.object({ requests: z.array(Publication).describe('Newest first.'), nextCursor: NextCursor }));

export const RequestsQuery = pageQuery(100, 500).extend({ status: z.enum(['pending', 'published', 'rejected']).optional() });

const PartitionStatus = z.object({ partition: z.number().int(), offset: z.string().nullable(), state: z.enum(['pending', 'applied', 'refused']), versionInForce: z.number().int().nullable() });

export const ApplyStatus = component(
  'PolicyApplyStatus',
  z.object({
    version: z.number().int(),
    partitions: z.array(PartitionStatus),
    applied: z.number().int(),
    total: z.number().int(),
    complete: z.boolean().describe('Every partition applied this version (or a later one).'),
    refused: z.boolean().describe('A partition moved past the event without applying it (dead-lettered: see the dead-letter topic).'),
  }),
);

export const StatusQuery = z.object({ waitMs: z.coerce.number().int().min(0).max(600_000).optional().describe('Long-poll: answer when complete or refused, or after this long.') });

const VersionItem = z.object({
  version: z.number().int(),
  hash: z.string(),
  publishedBy: z.string().describe('The publisher as the workers recorded it (`<producer key>:<actor>`).'),
  publishedAt: Instant,
  eventId: z.string(),
  policies: z.array(z.string()).describe('Policy file ids.'),
  requestId: z.string().nullable(),
  approvedBy: z.string().nullable(),
  rollbackOf: z.number().int().nullable(),
  reason: z.string().nullable(),
});

export const PolicyHistory = component(
  'PolicyHistory',
  z.object({ versions: z.array(VersionItem).describe('Newest first, a page at a time.'), pending: z.array(Publication).describe('Publications waiting for approval (at most 100, on every page).'), nextCursor: NextCursor }),
);

export const HistoryQuery = pageQuery(50, 500);

export const PolicySetView = component(
  'PolicySet',
  z.object({
    version: z.number().int().nullable().describe('null: no set published yet.'),
    hash: z.string().nullable(),
    publishedBy: z.string().nullable(),
    publishedAt: Instant.nullable(),
    files: z.array(PolicyFile),
    partitions: z.array(z.object({ partition: z.number().int(), version: z.number().int().nullable() })),
  }),
);

export type PublicationView = z.input<typeof Publication>;
