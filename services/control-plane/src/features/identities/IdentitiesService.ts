import { IdentityId, ScopeChange, type TopicNames } from '@livescope/contracts';
import {
  decodeGlobals,
  decodeIdentity,
  decodePolicies,
  defaultEngineConfig,
  emptyGlobals,
  explain,
  PermInterner,
  permitAllPolicy,
  type Explanation,
  type Globals,
  type IdentityState,
  type PolicyCompiler,
  type ScopePolicy,
} from '@livescope/scope-engine';
import type { z } from 'zod';
import { historyItem } from '../../audit/auditItem.js';
import { decodeAuditKey, encodeAuditKey } from '../../audit/auditKey.js';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { WorkerState } from '../../persistence/WorkerState.js';
import { LRUCache } from 'lru-cache';
import type { IdentitiesRepository } from './IdentitiesRepository.js';
import type { IdentitiesApi } from './routes.js';
import type * as S from './schemas.js';
import { scopeView, sinceVersions } from './views.js';

const isIdentityKey = (k: readonly unknown[]): k is [string] => k.length === 1 && IdentityId.safeParse(k[0]).success;

export interface IdentitiesDeps {
  /** The events topic whose partitions the workers' state is kept per (`TopicNames.events`). */
  readonly eventsTopic: TopicNames['events'];
  readonly repository: IdentitiesRepository;
  readonly workerState: WorkerState;
  /** Compiles published Cedar policy sets for explain (the workers' compiler). */
  readonly compilePolicies: PolicyCompiler;
}

/** What other features may ask of identities: an identity's state of record. */
export interface IdentityReader {
  /** The identity's partition and decoded state; NOT_FOUND when the workers hold none. */
  identity(identityId: string): Promise<{ partition: number; state: IdentityState }>;
  /** Whether the workers hold an identity with this id (an approver must not be one). */
  exists(identityId: string): Promise<boolean>;
}

const HISTORY_KINDS = ['scope.change', 'revocation', 'drift.alert'];

/**
 * Identity views over the workers' state of record: the fleet a page at a time, one identity's
 * current scope, a past version and its history (audit log), and why it may or may not do something
 * now (explain, with the policy set its partition's workers run).
 */
export class IdentitiesService implements IdentitiesApi, IdentityReader {
  private readonly policyCache = new LRUCache<string, ScopePolicy>({ max: 8 });

  constructor(private readonly d: IdentitiesDeps) {}

  async identities(q: z.infer<typeof S.IdentitiesQuery>): Promise<z.input<typeof S.IdentitiesPage>> {
    const filter = { q: q.q, kind: q.kind, namespace: q.namespace, status: q.status };
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isIdentityKey)[0];
    const [rows, total] = await Promise.all([this.d.repository.listIdentities(filter, after, q.limit + 1), after === undefined ? this.d.repository.countIdentities(filter) : Promise.resolve(null)]);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { identities: page.map((r) => ({ ...r, status: r.status as S.IdentitySummary['status'] })), nextCursor: rows.length > q.limit && last ? encodeCursor([last.identityId]) : null, total };
  }

  async exists(identityId: string): Promise<boolean> {
    return (await this.d.workerState.identityState(identityId)) !== undefined;
  }

  async identity(identityId: string): Promise<{ partition: number; state: IdentityState }> {
    const row = await this.d.workerState.identityState(identityId);
    if (!row) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} is not known`);
    return { partition: row.partition, state: decodeIdentity(row.state, new PermInterner()) };
  }

  async scope(identityId: string): Promise<S.ScopeView> {
    const { partition, state } = await this.identity(identityId);
    const changes = (await this.d.repository.history(identityId, ['scope.change'], undefined, 200)).map((r) => ScopeChange.parse(JSON.parse(r.payload)));
    const since = sinceVersions(state.scope.map((e) => e.perm), changes);
    return scopeView(state, partition, since, Date.now());
  }

  async scopeAt(identityId: string, version: number): Promise<z.input<typeof S.PastScopeView>> {
    const rec = await this.d.repository.scopeChangeAt(identityId, version);
    if (!rec) throw new ControlPlaneError('NOT_FOUND', `no scope version ${version} of ${identityId} in the audit log`);
    const c = ScopeChange.parse(JSON.parse(rec.payload));
    return { identityId: c.identityId, version: c.version, previousVersion: c.previousVersion, status: c.status, at: c.at, direction: c.direction, permissions: c.permissions, sessions: c.sessions, added: c.added, removed: c.removed, cause: c.cause };
  }

  async history(identityId: string, q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.History>> {
    const kinds = q.kinds ? q.kinds.split(',') : HISTORY_KINDS;
    const rows = await this.d.repository.history(identityId, kinds, q.cursor ? decodeAuditKey(q.cursor) : undefined, q.limit + 1);
    if (rows.length === 0 && !q.cursor && !(await this.d.workerState.identityState(identityId))) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} is not known`);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { identityId, items: page.map(historyItem), nextCursor: rows.length > q.limit && last ? encodeAuditKey(last) : null };
  }

  async explain(identityId: string, action: string, resource: string, session?: string): Promise<Explanation> {
    const { partition, state } = await this.identity(identityId);
    const part = (await this.d.workerState.partitionsOf(this.d.eventsTopic)).find((p) => p.partition === partition);
    const globals: Globals = part?.globals ? decodeGlobals(part.globals) : emptyGlobals();
    const policy = this.policyFor(part?.policies ?? null);
    return explain(state, globals, policy, action, resource, Date.now(), defaultEngineConfig, session);
  }

  private policyFor(policies: string | null): ScopePolicy {
    // The engine's documented default: before any policy set is published, provisioned permissions are in scope.
    if (policies === null) return permitAllPolicy;
    const published = decodePolicies(policies);
    const key = `${published.version}:${published.files.length}`;
    const cached = this.policyCache.get(key);
    if (cached) return cached;
    let compiled: ScopePolicy;
    try {
      compiled = this.d.compilePolicies(published.files, published.version);
    } catch (e) {
      throw new ControlPlaneError('POLICY_COMPILER_UNAVAILABLE', `policy set version ${published.version} does not compile here: ${(e as Error).message}`, {
        cause: e,
        component: 'policy-compiler',
        publicMessage: `policy set version ${published.version} does not compile in this control plane (a version skew with the workers)`,
      });
    }
    this.policyCache.set(key, compiled);
    return compiled;
  }
}
