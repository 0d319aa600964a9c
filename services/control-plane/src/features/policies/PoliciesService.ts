import { createHash, randomBytes } from 'node:crypto';
import { broadcastEvent, type TopicNames } from '@livescope/contracts';
import {
  compileScopePolicy,
  decodeGlobals,
  decodeIdentity,
  decodePolicies,
  diffPolicySets,
  diffPolicyTexts,
  emptyGlobals,
  ImpactAccumulator,
  parsePolicyTestFile,
  PermInterner,
  permitAllPolicy,
  PolicyTestFormatError,
  runPolicyTests,
  validatePolicyFiles,
  type Globals,
  type ImpactReport,
  type PolicyFileText,
  type PublishedPolicies,
  type ScopePolicy,
} from '@livescope/scope-engine';
import type { Logger } from '@livescope/transport';
import type { z } from 'zod';
import { hasAnyRole, Role, type Principal } from '../../auth/roles.js';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { decodeCursor, encodeCursor, isIntegerKey, isStringKey } from '../../http/pagination.js';
import { newEventId } from '../../events/ids.js';
import { EVENT_SOURCE } from '../../events/expiry.js';
import { durablePublish } from '../../kafka/durablePublish.js';
import type { EventSender } from '../../kafka/EventSender.js';
import type { PartitionRow, WorkerState } from '../../persistence/WorkerState.js';
import { sleep } from '../../sleep.js';
import type { PoliciesRepository, RequestRow } from './PoliciesRepository.js';
import type { PoliciesApi } from './routes.js';
import type * as S from './schemas.js';

/** When a policy publication waits for a second admin: never (unless the request asks), or always. */
export type PolicyApprovalMode = 'none' | 'second-admin';

export interface PoliciesDeps {
  readonly eventsTopic: TopicNames['events'];
  readonly repository: PoliciesRepository;
  readonly workerState: WorkerState;
  readonly sender: EventSender;
  readonly logger: Logger;
  readonly approval: PolicyApprovalMode;
  /** Longest long-poll of the apply status. */
  readonly maxWaitMs: number;
}

/** Content hash of a set: sha256 over its files sorted by id. Publication is idempotent by it. */
export function contentHash(files: readonly PolicyFileText[]): string {
  const canonical = JSON.stringify([...files].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((f) => [f.id, f.text]));
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

const newRequestId = (): string => `pr-${randomBytes(9).toString('base64url')}`;

interface InForce {
  readonly partitions: readonly PartitionRow[];
  readonly published: ReadonlyMap<number, PublishedPolicies | undefined>;
  /** The newest set any partition holds. */
  readonly latest: PublishedPolicies | undefined;
  readonly behind: number[];
}

/**
 * The policy lifecycle over the workers' state of record: validation and tests with the workers'
 * compiler, textual and semantic diffs, the impact of a candidate set on every identity (streamed
 * from PostgreSQL partition by partition), publication as a signed `policies.published` control
 * event (idempotent by content hash, optionally held for a second admin), its progress per
 * partition, history and rollback.
 */
export class PoliciesService implements PoliciesApi {
  constructor(private readonly d: PoliciesDeps) {}

  validate(files: readonly PolicyFileText[]): z.input<typeof S.ValidationResult> {
    const r = validatePolicyFiles(files);
    return { valid: r.valid, hash: contentHash(files), problems: [...r.problems], policies: [...r.policies] };
  }

  test(req: z.infer<typeof S.TestRequest>): z.input<typeof S.TestResult> {
    const policy = this.compileOrReject(req.files);
    const results: z.input<typeof S.TestResult>['results'] = [];
    for (const suite of req.suites) {
      let file;
      try {
        file = parsePolicyTestFile(suite.content);
      } catch (e) {
        if (e instanceof PolicyTestFormatError) throw new ControlPlaneError('INVALID_REQUEST', `test file ${suite.name}: ${e.message}`, { paths: [`suites.${suite.name}`] });
        throw e;
      }
      for (const { expectedDetermining, determining, ...r } of runPolicyTests(policy, file)) {
        results.push({ suite: suite.name, ...r, determining: [...determining], ...(expectedDetermining ? { expectedDetermining: [...expectedDetermining] } : {}) });
      }
    }
    const passed = results.filter((r) => r.passed).length;
    return { passed, failed: results.length - passed, results };
  }

  async current(): Promise<z.input<typeof S.PolicySetView>> {
    const f = await this.inForce();
    const latest = f.latest;
    const applied = latest ? (await this.d.repository.applied(1, latest.version))[0] : undefined;
    return {
      version: latest?.version ?? null,
      hash: latest ? contentHash(latest.files) : null,
      publishedBy: applied?.publishedBy ?? null,
      publishedAt: applied?.at ?? null,
      files: latest ? latest.files.map((x) => ({ id: x.id, text: x.text })) : [],
      partitions: f.partitions.map((p) => ({ partition: p.partition, version: f.published.get(p.partition)?.version ?? null })),
    };
  }

  async diff(req: z.infer<typeof S.DiffRequest>): Promise<z.input<typeof S.DiffResult>> {
    const f = await this.inForce();
    const from = req.from ? await this.resolve(req.from) : { version: f.latest?.version ?? null, files: f.latest?.files ?? [] };
    const to = await this.resolve(req.to);
    const toPolicy = this.compileOrReject(to.files);
    const fromPolicy = from.files.length > 0 ? this.compileOrReject(from.files) : undefined;
    const identical = contentHash(from.files) === contentHash(to.files);
    let pairs: ImpactReport['pairs'] | null = null;
    let pairsTruncated = false;
    if (req.fleet && !identical) {
      const report = await this.accumulate(f, () => fromPolicy ?? permitAllPolicy, toPolicy, new ImpactAccumulator({ maxIdentities: 0 }));
      pairs = report.pairs;
      pairsTruncated = report.pairsTruncated;
    }
    return {
      from: { version: from.version, hash: contentHash(from.files) },
      to: { version: to.version, hash: contentHash(to.files) },
      identical,
      files: diffPolicyTexts(from.files, to.files).map((x) => ({ ...x, hunks: x.hunks.map((h) => ({ ...h, lines: [...h.lines] })) })),
      policies: diffPolicySets(fromPolicy?.compiled, toPolicy.compiled).map(({ before, after, changed, ...p }) => ({
        ...p,
        ...(changed ? { changed: [...changed] } : {}),
        ...(before ? { before: { ...before, reads: [...before.reads] } } : {}),
        ...(after ? { after: { ...after, reads: [...after.reads] } } : {}),
      })),
      pairs: pairs ? pairs.map((p) => ({ ...p })) : null,
      pairsTruncated,
    };
  }

  async impact(req: z.infer<typeof S.ImpactRequest>): Promise<z.input<typeof S.ImpactResult>> {
    if ((req.files === undefined) === (req.version === undefined)) throw new ControlPlaneError('INVALID_REQUEST', 'give the candidate set as files, or a published version', { paths: ['files', 'version'] });
    const started = performance.now();
    const f = await this.inForce();
    const candidate = req.files ? { version: null, files: req.files } : await this.resolve({ version: req.version! });
    const after = this.compileOrReject(candidate.files);
    const keep = req.namespace !== undefined || req.kind !== undefined ? (i: { namespace: string; kind: string }) => (req.namespace === undefined || i.namespace === req.namespace) && (req.kind === undefined || i.kind === req.kind) : undefined;
    const compiled = new Map<number, ScopePolicy>();
    const beforeOf = (partition: number): ScopePolicy => {
      let p = compiled.get(partition);
      if (!p) {
        const pub = f.published.get(partition);
        p = pub ? this.compileOrUnavailable(pub) : permitAllPolicy;
        compiled.set(partition, p);
      }
      return p;
    };
    const at = Date.now();
    const report = await this.accumulate(f, beforeOf, after, new ImpactAccumulator({ maxIdentities: req.limit, ...(keep ? { keep } : {}) }), at);
    return {
      at: new Date(at).toISOString(),
      inForce: { version: f.latest?.version ?? null, hash: f.latest ? contentHash(f.latest.files) : null },
      candidate: { version: candidate.version, hash: contentHash(candidate.files) },
      partitionsBehind: f.behind,
      durationMs: Math.round(performance.now() - started),
      ...toJson(report),
    };
  }

  async publish(actor: Principal, req: z.infer<typeof S.PublishRequest>): Promise<z.input<typeof S.Publication>> {
    return this.request(actor, req.files, req.reason ?? null, req.requireApproval, null);
  }

  async rollback(actor: Principal, req: z.infer<typeof S.RollbackRequest>): Promise<z.input<typeof S.Publication>> {
    const target = await this.resolve({ version: req.version });
    return this.request(actor, target.files, req.reason ?? `rollback to version ${req.version}`, req.requireApproval, req.version);
  }

  async approve(actor: Principal, requestId: string): Promise<z.input<typeof S.Publication>> {
    const r = await this.pending(requestId);
    if (!hasAnyRole(actor, [])) throw new ControlPlaneError('FORBIDDEN', 'approving a policy publication needs the admin role');
    if (!actor.person) throw new ControlPlaneError('FORBIDDEN', `approving a policy publication needs a person: the token of ${actor.sub} does not carry the claim that marks a person (LIVESCOPE_API_PERSON_CLAIM)`);
    if (actor.sub === r.requestedBy) throw new ControlPlaneError('FORBIDDEN', `${actor.sub} requested publication ${requestId} and cannot also approve it: a second admin must`);
    return this.publishNow(r, actor.sub);
  }

  async reject(actor: Principal, requestId: string, reason: string | undefined): Promise<z.input<typeof S.Publication>> {
    const r = await this.pending(requestId);
    if (!actor.roles.has(Role.admin) && actor.sub !== r.requestedBy) throw new ControlPlaneError('FORBIDDEN', 'only an admin, or the requester, can reject a pending policy publication');
    if (!(await this.d.repository.reject(requestId, actor.sub, reason ?? null))) throw new ControlPlaneError('CONFLICT', `publication ${requestId} is no longer pending`);
    this.d.logger.info({ requestId, by: actor.sub }, 'policy publication rejected');
    return view((await this.d.repository.request(requestId))!);
  }

  async requests(q: z.infer<typeof S.RequestsQuery>): Promise<z.input<typeof S.PublicationsList>> {
    const afterId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isStringKey)[0];
    const rows = await this.d.repository.requests(q.status, q.limit + 1, afterId);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { requests: page.map(view), nextCursor: rows.length > q.limit && last ? encodeCursor([last.requestId]) : null };
  }

  async publication(requestId: string): Promise<z.input<typeof S.Publication>> {
    const r = await this.d.repository.request(requestId);
    if (!r) throw new ControlPlaneError('NOT_FOUND', `no policy publication ${requestId}`);
    return view(r);
  }

  async history(q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.PolicyHistory>> {
    const beforeSeq = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isIntegerKey)[0];
    const rows = await this.d.repository.applied(q.limit + 1, undefined, beforeSeq);
    const applied = rows.slice(0, q.limit);
    const last = applied[applied.length - 1];
    const byVersion = await this.d.repository.requestsByVersion(applied.map((a) => a.version));
    const pending = await this.d.repository.requests('pending', 100);
    return {
      versions: applied.map((a) => {
        const r = byVersion.get(a.version);
        return {
          version: a.version,
          hash: contentHash(a.files),
          publishedBy: a.publishedBy,
          publishedAt: a.at,
          eventId: a.eventId,
          policies: a.files.map((x) => x.id),
          requestId: r?.requestId ?? null,
          approvedBy: r?.approvedBy ?? null,
          rollbackOf: r?.rollbackOf ?? null,
          reason: r?.reason ?? null,
        };
      }),
      pending: pending.map(view),
      nextCursor: rows.length > q.limit && last ? encodeCursor([last.seq]) : null,
    };
  }

  async version(version: number): Promise<z.input<typeof S.PolicySetView>> {
    const r = await this.resolve({ version });
    const applied = (await this.d.repository.applied(1, version))[0];
    return { version, hash: contentHash(r.files), publishedBy: applied?.publishedBy ?? null, publishedAt: applied?.at ?? null, files: r.files.map((x) => ({ id: x.id, text: x.text })), partitions: [] };
  }

  /** Which partitions applied `version` (or a later one), refused it, or have not reached it; long-polls up to `waitMs`. */
  async status(version: number, waitMs: number | undefined, signal: AbortSignal): Promise<z.input<typeof S.ApplyStatus>> {
    const deadline = Date.now() + Math.min(waitMs ?? 0, this.d.maxWaitMs);
    const request = (await this.d.repository.requestsByVersion([version])).get(version);
    for (;;) {
      const known = new Map((await this.d.workerState.partitionsOf(this.d.eventsTopic)).map((p) => [p.partition, p]));
      // Every partition of the events topic: a worker that has not yet written a partition's row has not applied anything there.
      const rows = Array.from({ length: Math.max(this.d.sender.partitions, known.size) }, (_, partition) => {
        const p = known.get(partition);
        const inForce = p?.policies ? decodePolicies(p.policies).version : null;
        const offset = request?.offsets?.[String(partition)] ?? null;
        const state: 'applied' | 'refused' | 'pending' = inForce !== null && inForce >= version ? 'applied' : p !== undefined && offset !== null && p.nextOffset > BigInt(offset) ? 'refused' : 'pending';
        return { partition, offset, state, versionInForce: inForce };
      });
      const applied = rows.filter((r) => r.state === 'applied').length;
      const out = { version, partitions: rows, applied, total: rows.length, complete: rows.length > 0 && applied === rows.length, refused: rows.some((r) => r.state === 'refused') };
      if (out.complete || out.refused || Date.now() >= deadline || signal.aborted) return out;
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())), signal);
    }
  }

  // --- internals ------------------------------------------------------------------------------------
  private async request(actor: Principal, files: readonly PolicyFileText[], reason: string | null, requireApproval: boolean, rollbackOf: number | null): Promise<z.input<typeof S.Publication>> {
    this.compileOrReject(files);
    const hash = contentHash(files);
    const f = await this.inForce();
    if (f.latest && contentHash(f.latest.files) === hash && f.behind.length === 0) {
      const r = (await this.d.repository.requestsByVersion([f.latest.version])).get(f.latest.version);
      return { ...(r ? view(r) : { requestId: null, eventId: null, requestedBy: actor.sub, requestedAt: new Date().toISOString(), approvedBy: null, decidedAt: null, rollbackOf, reason, files: files.length }), status: 'unchanged', hash, version: f.latest.version };
    }
    const pending = await this.d.repository.pendingByHash(hash);
    if (pending) return view(pending);
    const requestId = newRequestId();
    await this.d.repository.insertRequest({ requestId, hash, files, requestedBy: actor.sub, reason, rollbackOf });
    const row = (await this.d.repository.request(requestId))!;
    if (requireApproval || this.d.approval === 'second-admin') {
      this.d.logger.info({ requestId, hash, requestedBy: actor.sub, rollbackOf }, 'policy publication waits for a second admin');
      return view(row);
    }
    return this.publishNow(row, null);
  }

  private async publishNow(r: RequestRow, approvedBy: string | null): Promise<z.input<typeof S.Publication>> {
    const f = await this.inForce();
    const floor = Math.max(0, ...[...f.published.values()].map((p) => p?.version ?? 0));
    const eventId = newEventId();
    const version = await this.d.repository.assignVersion(r.requestId, floor, approvedBy, eventId);
    if (version === undefined) throw new ControlPlaneError('CONFLICT', `publication ${r.requestId} is no longer pending`);
    // Signed control event, dated now: the workers refuse one older than their control-event age limit.
    const now = Date.now();
    const event = broadcastEvent('policies.published', { version, policies: r.files.map((x) => ({ id: x.id, text: x.text })), publishedBy: r.requestedBy }, { id: eventId, time: now, source: EVENT_SOURCE });
    const offsets = await durablePublish(
      this.d.sender,
      this.d.logger,
      event,
      now,
      (o) => this.d.repository.recordOffsets(r.requestId, o),
      () => this.d.repository.unassign(r.requestId),
    );
    await this.d.repository.recordOffsets(r.requestId, offsets);
    this.d.logger.info({ requestId: r.requestId, version, eventId, hash: r.hash, requestedBy: r.requestedBy, approvedBy, rollbackOf: r.rollbackOf }, 'policy set published');
    return view((await this.d.repository.request(r.requestId))!);
  }

  private async pending(requestId: string): Promise<RequestRow> {
    const r = await this.d.repository.request(requestId);
    if (!r) throw new ControlPlaneError('NOT_FOUND', `no policy publication ${requestId}`);
    if (r.status !== 'pending') throw new ControlPlaneError('CONFLICT', `publication ${requestId} is ${r.status}, not pending`);
    return r;
  }

  private async inForce(): Promise<InForce> {
    const partitions = await this.d.workerState.partitionsOf(this.d.eventsTopic);
    const published = new Map(partitions.map((p) => [p.partition, p.policies ? decodePolicies(p.policies) : undefined]));
    let latest: PublishedPolicies | undefined;
    for (const p of published.values()) if (p && (!latest || p.version > latest.version)) latest = p;
    const behind = partitions.filter((p) => (published.get(p.partition)?.version ?? null) !== (latest?.version ?? null)).map((p) => p.partition);
    return { partitions, published, latest, behind };
  }

  private async resolve(ref: { version: number } | { files: readonly PolicyFileText[] }): Promise<{ version: number | null; files: PolicyFileText[] }> {
    if ('files' in ref) return { version: null, files: [...ref.files] };
    const mine = (await this.d.repository.requestsByVersion([ref.version])).get(ref.version);
    if (mine) return { version: ref.version, files: mine.files };
    const applied = (await this.d.repository.applied(1, ref.version))[0];
    if (applied) return { version: ref.version, files: applied.files };
    const f = await this.inForce();
    for (const p of f.published.values()) if (p?.version === ref.version) return { version: ref.version, files: [...p.files] };
    throw new ControlPlaneError('NOT_FOUND', `policy version ${ref.version} is not known (neither published through this control plane nor in the workers' audit log)`);
  }

  /** Streams every partition's identities from the state of record into the accumulator. */
  private async accumulate(f: InForce, beforeOf: (partition: number) => ScopePolicy, after: ScopePolicy, acc: ImpactAccumulator, at = Date.now()): Promise<ImpactReport> {
    const interner = new PermInterner();
    for (const p of f.partitions) {
      const globals: Globals = p.globals ? decodeGlobals(p.globals) : emptyGlobals();
      const before = beforeOf(p.partition);
      for await (const chunk of this.d.repository.store.identitiesOf(p.partition)) {
        for (const row of chunk) acc.add(decodeIdentity(row.state, interner), globals, before, after, at);
      }
    }
    return acc.report();
  }

  /**
   * Validates and compiles a candidate set. Always as version 1: validation compiles it that way, so
   * the compiled-set cache (a few entries, shared with explain) holds one entry per candidate, and a
   * candidate's own version number never changes a decision.
   */
  private compileOrReject(files: readonly PolicyFileText[]): ReturnType<typeof compileScopePolicy> {
    const v = validatePolicyFiles(files);
    if (!v.valid) {
      const where = (p: (typeof v.problems)[number]): string => `${p.file ?? '?'}${p.line !== undefined ? `:${p.line}:${p.column ?? 1}` : ''}`;
      throw new ControlPlaneError('INVALID_REQUEST', `the policy set does not validate: ${v.problems.slice(0, 5).map((p) => `${where(p)}: ${p.message}`).join('; ')}`, { paths: v.problems.slice(0, 20).map((p) => `files.${p.file ?? '?'}`) });
    }
    return compileScopePolicy(files, 1);
  }

  private compileOrUnavailable(p: PublishedPolicies): ScopePolicy {
    try {
      return compileScopePolicy(p.files, p.version);
    } catch (e) {
      throw new ControlPlaneError('POLICY_COMPILER_UNAVAILABLE', `policy set version ${p.version} in force does not compile here: ${(e as Error).message}`, { cause: e });
    }
  }
}

function view(r: RequestRow): z.input<typeof S.Publication> {
  return { requestId: r.requestId, status: r.status, hash: r.hash, version: r.version, eventId: r.eventId, requestedBy: r.requestedBy, requestedAt: r.requestedAt, approvedBy: r.approvedBy, decidedAt: r.decidedAt, rollbackOf: r.rollbackOf, reason: r.reason, files: r.files.length };
}

function toJson(r: ImpactReport): Omit<z.input<typeof S.ImpactResult>, 'at' | 'inForce' | 'candidate' | 'partitionsBehind' | 'durationMs'> {
  const perms = (xs: readonly { action: string; resource: string; access: 'read' | 'write' | 'admin'; sessions?: readonly string[] }[]) => xs.map((p) => ({ action: p.action, resource: p.resource, access: p.access, ...(p.sessions ? { sessions: [...p.sessions] } : {}) }));
  return {
    scanned: r.scanned,
    computed: r.computed,
    totals: { ...r.totals },
    byNamespace: r.byNamespace.map((x) => ({ ...x })),
    byKind: r.byKind.map((x) => ({ ...x })),
    pairs: r.pairs.map((x) => ({ ...x })),
    pairsTruncated: r.pairsTruncated,
    identities: r.identities.map((i) => ({ ...i, gained: perms(i.gained), lost: perms(i.lost), rebound: perms(i.rebound) })),
    identitiesTruncated: r.identitiesTruncated,
  };
}
