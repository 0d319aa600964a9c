import { ScopeChange, type TopicNames } from '@livescope/contracts';
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
import type { Logger } from '@livescope/transport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ApiServices } from './api/routes.js';
import type * as S from './api/schemas.js';
import { canLift, type Principal } from './auth/roles.js';
import type { ControlPlaneConfig } from './config.js';
import { ControlPlaneError } from './ControlPlaneError.js';
import type { ControlPlaneMetrics } from './ControlPlaneMetrics.js';
import { newApprovalId, newEventId, newOrderId } from './domain/ids.js';
import { approvalGrantedEvent, approvalRevokedEvent, orderIssuedEvent, orderLiftedEvent } from './domain/orderEvents.js';
import { hasAnyRole, access, Role } from './auth/roles.js';
import { serveEventStream } from './api/EventStream.js';
import { activeOrders, alertView, changeItem, decodeAuditCursor, decodeCursor, encodeAuditCursor, encodeCursor, enforcerView, fleetCensus, historyItem, scopeView, severitiesFrom, sinceVersions } from './domain/views.js';
import type { CommandFollower } from './kafka/CommandFollower.js';
import type { EventSender, PublishedOffsets } from './kafka/EventSender.js';
import type { ControlPlaneStore, OrderRow } from './persistence/ControlPlaneStore.js';
import type { ConsoleAssets } from './console/ConsoleAssets.js';
import type { ActivityWindow } from './tracking/ActivityWindow.js';
import type { AlertBus } from './tracking/AlertBus.js';
import type { CommandTracker } from './tracking/CommandTracker.js';
import { LruMap } from './tracking/LruMap.js';

export interface ServiceDeps {
  readonly config: ControlPlaneConfig;
  readonly topics: TopicNames;
  readonly store: ControlPlaneStore;
  readonly sender: EventSender;
  readonly tracker: CommandTracker;
  readonly follower: CommandFollower;
  readonly bus: AlertBus;
  /** Woken when the follower reads scope changes or revocations (the workers commit them right after). */
  readonly changeBus: AlertBus;
  /** Scope changes and revocations per minute, from the command topics. */
  readonly activity: ActivityWindow;
  /** The built web console served under /console/. */
  readonly console: ConsoleAssets;
  readonly metrics: ControlPlaneMetrics;
  readonly logger: Logger;
  /** Compiles published Cedar policy sets for explain (the workers' compiler). */
  readonly compilePolicies: PolicyCompiler;
  readonly readiness: () => Promise<{ ready: boolean; checks: { kafka: string; registry: string; postgres: string; consumers: string } }>;
  readonly openApi: () => unknown;
  readonly renderMetrics: () => Promise<{ contentType: string; text: string }>;
}

const ONE_SHOT = new Set(['revoke-secret-leases', 'revoke-session', 'revoke-token']);
const HISTORY_KINDS = ['scope.change', 'revocation', 'drift.alert'];
const STATUS_POLL_MS = 100;
const STALENESS_GRACE_MS = 5000;
const SSE_BATCH = 200;
const SSE_KEEPALIVE_MS = 15_000;
const SSE_RETRY_MS = 2000;
/** After a wake-up, give the workers' commit a moment to land before reading PostgreSQL. */
const CHANGE_SETTLE_MS = 100;
const CHANGE_KINDS = ['scope.change', 'revocation'];
/** The fleet summary scans every identity state: answer from a recent one under load. */
const FLEET_CACHE_MS = 2000;
const DAY_MS = 86_400_000;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The control plane's use cases behind the HTTP routes: publishing orders and approvals (accepted
 * only once durable), reading the workers' state of record, and tracking what orders did.
 */
export class ControlPlaneService implements ApiServices {
  private readonly policyCache = new LruMap<string, ScopePolicy>(8);
  /** Ends of the command topics captured once an event was processed everywhere (see `progressOf`). */
  private readonly commandEnds = new LruMap<string, Map<string, bigint>>(10_000);
  private fleetCache: { atMs: number; value: Promise<S.FleetSummary> } | undefined;

  constructor(private readonly d: ServiceDeps) {}

  // --- orders ----------------------------------------------------------------------------------
  async issueOrder(actor: Principal, req: S.IssueOrderRequest): Promise<z.input<typeof S.OrderAccepted>> {
    const now = Date.now();
    const orderId = newOrderId();
    const eventId = newEventId();
    const event = orderIssuedEvent(req, { orderId, eventId, actor: actor.sub, nowMs: now, maxTtlMs: this.d.config.maxTtlMs });
    await this.d.store.insertOrder({
      orderId,
      kind: req.kind,
      actor: actor.sub,
      reason: req.reason,
      target: JSON.stringify(event.data.target),
      eventId,
      event: JSON.stringify(event),
      issuedAt: event.time,
      expiresAt: event.data.expiresAt ?? null,
      offsets: null,
      lift: null,
    });
    this.d.tracker.expect(eventId, orderId, 'order.issued');
    const offsets = await this.publish(event, now, (late) => this.d.store.setOrderOffsets(orderId, late), () => this.d.store.deleteOrder(orderId));
    await this.d.store.setOrderOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e.message }, 'order published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: req.kind });
    this.d.logger.info({ orderId, eventId, kind: req.kind, actor: actor.sub, target: event.data.target, expiresAt: event.data.expiresAt, reason: req.reason }, 'order issued');
    return {
      orderId,
      eventId,
      kind: req.kind,
      actor: actor.sub,
      target: event.data.target,
      expiresAt: event.data.expiresAt ?? null,
      acceptedAt: new Date().toISOString(),
      partitions: Object.keys(offsets).length,
      statusUrl: `/v1/orders/${encodeURIComponent(orderId)}/status`,
    };
  }

  async liftOrder(actor: Principal, orderId: string, reason: string | undefined): Promise<z.input<typeof S.LiftAccepted>> {
    const now = Date.now();
    let row = await this.d.store.getOrder(orderId);
    const active = (await this.activeOrdersAt(now)).orders.find((o) => o.orderId === orderId);
    if (!row && !active) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is neither in force nor known to the control plane`);
    const orderActor = row?.actor ?? active!.actor;
    if (!canLift(actor, orderActor)) throw new ControlPlaneError('FORBIDDEN', `order ${orderId} was issued by ${orderActor}: lifting another's order widens scope and needs the approver role`);
    const kind = row?.kind ?? active!.kind;
    if (ONE_SHOT.has(kind)) throw new ControlPlaneError('CONFLICT', `order ${orderId} (${kind}) acted once when issued; there is nothing to lift`);
    if (row?.lift) throw new ControlPlaneError('CONFLICT', `order ${orderId} was already lifted by ${row.lift.actor} at ${row.lift.at}`);
    if (!active && row?.expiresAt && Date.parse(row.expiresAt) <= now) throw new ControlPlaneError('CONFLICT', `order ${orderId} expired at ${row.expiresAt}`);
    if (!row) {
      // An order issued by another producer (the simulator, a script): record it so its lift can be tracked.
      const a = active!;
      await this.d.store.insertOrder({ orderId, kind: a.kind, actor: a.actor, reason: a.reason, target: JSON.stringify(a.target), eventId: '', event: JSON.stringify(a), issuedAt: a.issuedAt, expiresAt: a.expiresAt, offsets: null, lift: null }).catch(() => undefined);
      row = await this.d.store.getOrder(orderId);
    }
    const eventId = newEventId();
    const event = orderLiftedEvent(orderId, actor.sub, reason, { eventId, nowMs: now });
    if (row && !(await this.d.store.claimLift(orderId, { eventId, actor: actor.sub, reason: reason ?? null, at: event.time }))) {
      throw new ControlPlaneError('CONFLICT', `order ${orderId} is being lifted by another request`);
    }
    this.d.tracker.expect(eventId, orderId, 'order.lifted');
    const offsets = await this.publish(event, now, (late) => this.d.store.setLiftOffsets(orderId, late), () => this.d.store.releaseLift(orderId, eventId));
    await this.d.store.setLiftOffsets(orderId, offsets).catch((e: Error) => this.d.logger.warn({ orderId, err: e.message }, 'lift published but its offsets were not recorded'));
    this.d.metrics.orders.inc({ kind: 'lift' });
    this.d.logger.info({ orderId, eventId, actor: actor.sub, orderActor, reason }, 'order lifted');
    return { orderId, eventId, actor: actor.sub, acceptedAt: new Date().toISOString(), partitions: Object.keys(offsets).length, statusUrl: `/v1/orders/${encodeURIComponent(orderId)}/status` };
  }

  activeOrders(): Promise<z.input<typeof S.OrdersList>> {
    return this.activeOrdersAt(Date.now());
  }

  private async activeOrdersAt(now: number): Promise<{ orders: S.ActiveOrderView[]; partitions: number }> {
    const parts = await this.d.store.partitionsOf(this.d.topics.events);
    return { orders: activeOrders(parts.map((p) => ({ globals: p.globals ? decodeGlobals(p.globals) : null })), now), partitions: parts.length };
  }

  async orderStatus(orderId: string, waitMs: number | undefined, enforcers: number | undefined, signal: AbortSignal): Promise<S.OrderStatus> {
    const deadline = Date.now() + Math.min(waitMs ?? 0, this.d.config.maxWaitMs);
    for (;;) {
      const status = await this.statusOnce(orderId, enforcers);
      if (waitMs === undefined || status.satisfied || signal.aborted || Date.now() >= deadline) return status;
      await sleep(Math.min(STATUS_POLL_MS, Math.max(1, deadline - Date.now())), signal);
    }
  }

  private async statusOnce(orderId: string, enforcersWanted: number | undefined): Promise<S.OrderStatus> {
    const now = Date.now();
    const row = await this.d.store.getOrder(orderId);
    const { orders, partitions } = await this.activeOrdersAt(now);
    const active = orders.find((o) => o.orderId === orderId);
    const seen = this.d.tracker.eventsOfOrder(orderId);
    if (!row && !active && seen.length === 0) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is not known`);
    const positions = await this.d.store.partitionPositions(this.d.topics.events);
    const issueEventId = row?.eventId || seen.find((e) => this.d.tracker.progress(e)?.eventType === 'order.issued');
    const issue = issueEventId ? await this.progressOf(issueEventId, row?.eventId ? row.offsets : null, row?.issuedAt ?? active?.issuedAt ?? null, positions, now) : null;
    const lift = row?.lift ? { ...(await this.progressOf(row.lift.eventId, row.lift.offsets, row.lift.at, positions, now)), actor: row.lift.actor, reason: row.lift.reason } : null;
    const awaited = lift ?? issue;
    const satisfied = awaited !== null && awaited.complete && awaited.enforcers.applied >= (enforcersWanted ?? awaited.enforcers.known);
    const fallback = active ?? (row ? orderFromRow(row) : undefined);
    if (!fallback) throw new ControlPlaneError('NOT_FOUND', `order ${orderId} is not known`);
    return {
      orderId,
      kind: fallback.kind,
      actor: fallback.actor,
      reason: fallback.reason,
      target: fallback.target,
      issuedAt: fallback.issuedAt,
      expiresAt: fallback.expiresAt,
      inForce: { holding: active?.partitions.holding ?? 0, total: partitions },
      issue,
      lift,
      satisfied,
    };
  }

  /**
   * Progress of one published event. It is complete once every partition's worker committed past
   * it (so every command it caused was produced, acks=all, before that commit) and this instance has
   * read the command topics up to where they stood at that moment.
   */
  private async progressOf(eventId: string, offsets: PublishedOffsets | null, publishedAt: string | null, positions: ReadonlyMap<number, bigint>, now: number): Promise<S.Progress> {
    let partitions: S.Progress['partitions'] = null;
    let complete = false;
    if (offsets) {
      const entries = Object.entries(offsets);
      const processed = entries.filter(([p, o]) => (positions.get(Number(p)) ?? -1n) > BigInt(o)).length;
      partitions = { total: entries.length, processed };
      if (processed === entries.length && entries.length > 0) {
        let ends = this.commandEnds.get(eventId);
        if (!ends) this.commandEnds.set(eventId, (ends = await this.d.follower.commandTopicEnds()));
        complete = this.d.follower.caughtUp(ends);
      }
    }
    const p = this.d.tracker.progress(eventId);
    const e = this.d.tracker.enforcement(eventId, now, this.d.config.enforcerLivenessMs);
    // Before anything was seen, "applied everything seen" would be vacuously true: count only once there is something.
    const counted = complete || (p !== undefined && p.changes + p.revocations > 0);
    return {
      eventId,
      publishedAt: publishedAt ?? new Date(now).toISOString(),
      partitions,
      complete,
      identitiesChanged: p?.identitiesChanged ?? 0,
      changes: p?.changes ?? 0,
      revocations: p?.revocations ?? 0,
      truncated: p?.truncated ?? false,
      enforcers: { known: e.known.length, applied: counted ? e.applied.length : 0, appliedBy: counted ? [...e.applied] : [], pending: [...(counted ? e.pending : e.known)] },
    };
  }

  /** Publishes an event durably; on a definite failure `undo` runs, on a timeout `late` receives the offsets if it lands. */
  private async publish(event: Parameters<EventSender['send']>[0], now: number, late: (o: PublishedOffsets) => Promise<void>, undo: () => Promise<void>): Promise<PublishedOffsets> {
    try {
      return await this.d.sender.send(event, now, (o) => void late(o).catch((e: Error) => this.d.logger.warn({ eventId: event.id, err: e.message }, 'late publication not recorded')));
    } catch (e) {
      if (ControlPlaneError.is(e)) throw e;
      await undo().catch(() => undefined);
      throw new ControlPlaneError('UNAVAILABLE', `event ${event.id} was not published: ${(e as Error).message}`, { cause: e });
    }
  }

  // --- approvals -------------------------------------------------------------------------------
  async grantApproval(actor: Principal, identityId: string, req: z.infer<typeof S.ApprovalRequest>): Promise<z.input<typeof S.ApprovalAccepted>> {
    await this.identity(identityId);
    const now = Date.now();
    const approvalId = newApprovalId();
    const eventId = newEventId();
    const event = approvalGrantedEvent(identityId, req, { approvalId, eventId, approvedBy: actor.sub, nowMs: now, maxTtlMs: this.d.config.maxTtlMs });
    await this.publish(event, now, () => Promise.resolve(), () => Promise.resolve());
    this.d.metrics.approvals.inc({ action: 'granted' });
    this.d.logger.info({ identityId, approvalId, eventId, escalation: req.escalation, approvedBy: actor.sub, expiresAt: event.data.expiresAt }, 'approval granted');
    return { approvalId, eventId, identityId, escalation: req.escalation, approvedBy: actor.sub, expiresAt: event.data.expiresAt, acceptedAt: new Date().toISOString() };
  }

  async revokeApproval(actor: Principal, identityId: string, approvalId: string): Promise<z.input<typeof S.ApprovalRevoked>> {
    const { state } = await this.identity(identityId);
    if (!state.approvals.some((a) => a.approvalId === approvalId)) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} holds no approval ${approvalId}`);
    const now = Date.now();
    const eventId = newEventId();
    await this.publish(approvalRevokedEvent(identityId, approvalId, { eventId, nowMs: now }), now, () => Promise.resolve(), () => Promise.resolve());
    this.d.metrics.approvals.inc({ action: 'revoked' });
    this.d.logger.info({ identityId, approvalId, eventId, actor: actor.sub }, 'approval revoked');
    return { approvalId, eventId, identityId, acceptedAt: new Date().toISOString() };
  }

  // --- identity views --------------------------------------------------------------------------
  private async identity(identityId: string): Promise<{ partition: number; state: IdentityState }> {
    const row = await this.d.store.identityState(identityId);
    if (!row) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} is not known`);
    return { partition: row.partition, state: decodeIdentity(row.state, new PermInterner()) };
  }

  async scope(identityId: string): Promise<S.ScopeView> {
    const { partition, state } = await this.identity(identityId);
    const changes = (await this.d.store.history(identityId, ['scope.change'], undefined, 200)).map((r) => ScopeChange.parse(JSON.parse(r.payload)));
    const since = sinceVersions(state.scope.map((e) => e.perm), changes);
    return scopeView(state, partition, since, Date.now());
  }

  async scopeAt(identityId: string, version: number): Promise<z.input<typeof S.PastScopeView>> {
    const rec = await this.d.store.scopeChangeAt(identityId, version);
    if (!rec) throw new ControlPlaneError('NOT_FOUND', `no scope version ${version} of ${identityId} in the audit log`);
    const c = ScopeChange.parse(JSON.parse(rec.payload));
    return { identityId: c.identityId, version: c.version, previousVersion: c.previousVersion, status: c.status, at: c.at, direction: c.direction, permissions: c.permissions, sessions: c.sessions, added: c.added, removed: c.removed, cause: c.cause };
  }

  async history(identityId: string, q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.History>> {
    const kinds = q.kinds ? q.kinds.split(',') : HISTORY_KINDS;
    const rows = await this.d.store.history(identityId, kinds, q.before ? decodeCursor(q.before) : undefined, q.limit + 1);
    if (rows.length === 0 && !q.before && !(await this.d.store.identityState(identityId))) throw new ControlPlaneError('NOT_FOUND', `identity ${identityId} is not known`);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { identityId, items: page.map(historyItem), next: rows.length > q.limit && last ? encodeCursor({ at: last.at, partition: last.partition, seq: last.seq }) : null };
  }

  async explain(identityId: string, action: string, resource: string): Promise<Explanation> {
    const { partition, state } = await this.identity(identityId);
    const part = (await this.d.store.partitionsOf(this.d.topics.events)).find((p) => p.partition === partition);
    const globals: Globals = part?.globals ? decodeGlobals(part.globals) : emptyGlobals();
    const policy = this.policyFor(part?.policies ?? null);
    return explain(state, globals, policy, action, resource, Date.now(), defaultEngineConfig);
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
      throw new ControlPlaneError('POLICY_COMPILER_UNAVAILABLE', `policy set version ${published.version} does not compile here: ${(e as Error).message}`, { cause: e });
    }
    this.policyCache.set(key, compiled);
    return compiled;
  }

  // --- alerts ----------------------------------------------------------------------------------
  private alertFilter(q: z.infer<typeof S.AlertFilterQuery>): { types?: readonly string[]; severities?: readonly string[]; identityId?: string; enforcerId?: string; since?: string; acknowledged?: boolean } {
    return {
      ...(q.acknowledged ? { acknowledged: q.acknowledged === 'true' } : {}),
      ...(q.type ? { types: q.type } : {}),
      ...(q.severity ? { severities: severitiesFrom(q.severity) } : {}),
      ...(q.identity ? { identityId: q.identity } : {}),
      ...(q.enforcer ? { enforcerId: q.enforcer } : {}),
      ...(q.since ? { since: q.since } : {}),
    };
  }

  async alerts(q: z.infer<typeof S.AlertsQuery>): Promise<z.input<typeof S.AlertsList>> {
    const rows = await this.d.store.listAlerts({ ...this.alertFilter(q), ...(q.before ? { beforeSeq: q.before } : {}), limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    return { alerts: page.map(alertView), next: rows.length > q.limit ? page[page.length - 1]!.seq : null };
  }

  /**
   * Server-Sent Events: every stored alert after `lastEventId` (or from now), then new ones as they
   * are stored; acknowledgements made while the stream is open follow as `alert.acknowledged`
   * events (without an id, so they never move the client's resume position).
   */
  async streamAlerts(q: z.infer<typeof S.AlertStreamQuery>, lastEventId: string | undefined, ctx: { request: FastifyRequest; reply: FastifyReply }): Promise<void> {
    const filter = this.alertFilter(q);
    let last = lastEventId ?? (await this.d.store.latestAlertSeq());
    let lastAck = await this.d.store.latestAckSeq();
    await serveEventStream(ctx.reply, this.streamOptions('/v1/alerts/stream', `livescope drift alerts after ${last}`), async (w) => {
      while (w.open) {
        const rows = await this.d.store.listAlerts({ ...filter, afterSeq: last, limit: SSE_BATCH });
        for (const r of rows) {
          await w.event({ id: r.seq, event: 'drift.alert', data: alertView(r) });
          last = r.seq;
        }
        const acks = await this.d.store.acknowledgementsAfter(lastAck, SSE_BATCH);
        for (const a of acks) {
          await w.event({ event: 'alert.acknowledged', data: { id: a.seq, alertId: a.alertId, by: a.by, at: a.at, note: a.note } });
          lastAck = a.ackSeq;
        }
        if (rows.length === SSE_BATCH || acks.length === SSE_BATCH) continue;
        await w.keepAlive(SSE_KEEPALIVE_MS);
        await this.d.bus.wait(Math.min(this.d.config.ssePollMs, w.remainingMs), w.signal);
      }
    });
  }

  async acknowledgeAlert(actor: Principal, id: string, note: string | undefined): Promise<z.input<typeof S.AlertAck>> {
    const r = await this.d.store.acknowledgeAlert(id, actor.sub, note ?? null);
    if (!r) throw new ControlPlaneError('NOT_FOUND', `alert ${id} is not known`);
    if (!r.created) throw new ControlPlaneError('CONFLICT', `alert ${id} was already acknowledged by ${r.ack.by} at ${r.ack.at}`);
    this.d.bus.notify();
    this.d.logger.info({ alert: id, alertId: r.ack.alertId, actor: actor.sub }, 'alert acknowledged');
    return { id, alertId: r.ack.alertId, by: r.ack.by, at: r.ack.at, note: r.ack.note };
  }

  private streamOptions(route: string, intro: string): Parameters<typeof serveEventStream>[1] {
    return { maxMs: this.d.config.sseMaxMs, retryMs: SSE_RETRY_MS, intro, route, metrics: this.d.metrics, logger: this.d.logger };
  }

  // --- the web console -----------------------------------------------------------------------------
  async consoleAsset(path: string, reply: FastifyReply): Promise<void> {
    // Everything the console loads comes from here; the API is same-origin.
    void reply.headers({
      'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    const assets = this.d.console;
    if (!assets.root) {
      await reply.code(503).type('text/plain; charset=utf-8').send(`The livescope web console is not available on this control plane: ${assets.problem ?? 'not configured'}.\n`);
      return;
    }
    const file = assets.fileFor(path);
    if (!file) throw new ControlPlaneError('NOT_FOUND', `no console file ${path}`);
    if (file.immutable) await reply.sendFile(file.path, assets.root, { maxAge: 365 * DAY_MS, immutable: true });
    else await reply.header('cache-control', 'no-cache').sendFile(file.path, assets.root, { cacheControl: false });
  }

  // --- the caller and the fleet -------------------------------------------------------------------
  whoami(p: Principal): z.input<typeof S.WhoAmI> {
    return {
      sub: p.sub,
      roles: [...p.roles].sort(),
      can: {
        read: hasAnyRole(p, access.read),
        readAlerts: hasAnyRole(p, access.alerts),
        acknowledgeAlerts: hasAnyRole(p, access.alerts),
        issueOrders: hasAnyRole(p, access.narrow),
        liftOwnOrders: hasAnyRole(p, access.lift),
        liftAnyOrder: hasAnyRole(p, [Role.approver]),
        grantApprovals: hasAnyRole(p, access.widen),
      },
    };
  }

  async identities(q: z.infer<typeof S.IdentitiesQuery>): Promise<z.input<typeof S.IdentitiesPage>> {
    const filter = { q: q.q, kind: q.kind, namespace: q.namespace, status: q.status };
    const [rows, total] = await Promise.all([this.d.store.listIdentities(filter, q.after, q.limit + 1), q.after === undefined ? this.d.store.countIdentities(filter) : Promise.resolve(null)]);
    const page = rows.slice(0, q.limit);
    return { identities: page.map((r) => ({ ...r, status: r.status as S.IdentitySummary['status'] })), next: rows.length > q.limit ? page[page.length - 1]!.identityId : null, total };
  }

  fleet(): Promise<S.FleetSummary> {
    const now = Date.now();
    if (this.fleetCache && now - this.fleetCache.atMs < FLEET_CACHE_MS) return this.fleetCache.value;
    const value = this.fleetNow(now);
    this.fleetCache = { atMs: now, value };
    value.catch(() => (this.fleetCache = undefined));
    return value;
  }

  private async fleetNow(now: number): Promise<S.FleetSummary> {
    const [census, orders, enforcers, unacknowledged] = await Promise.all([
      this.d.store.census(),
      this.activeOrdersAt(now),
      this.d.store.listEnforcers(),
      this.d.store.unacknowledgedAlerts(new Date(now - DAY_MS).toISOString()),
    ]);
    const known = enforcers.filter((e) => now - Date.parse(e.lastSeen) <= this.d.config.enforcerLivenessMs).length;
    return {
      at: new Date(now).toISOString(),
      ...fleetCensus(census),
      ordersInForce: orders.orders.length,
      enforcers: { known, total: enforcers.length },
      alerts: { unacknowledged },
      activity: { bucketMs: this.d.activity.bucketMs, buckets: this.d.activity.series(now).map(({ atMs, ...c }) => ({ at: new Date(atMs).toISOString(), ...c })) },
    };
  }

  /** The newest scope changes and revocations fleet-wide, and the position to follow on from. */
  async changes(q: z.infer<typeof S.ChangesQuery>): Promise<z.input<typeof S.ChangesList>> {
    const heads = await this.d.store.auditHeads(this.d.topics.events);
    const rows = await this.d.store.latestAudit(heads, q.kinds ? q.kinds.split(',') : CHANGE_KINDS, q.limit);
    return { items: rows.map(changeItem), cursor: encodeAuditCursor(heads) };
  }

  /**
   * Server-Sent Events of scope changes and revocations (`event: scope.change | revocation`) read
   * from the audit log, where the workers commit them, so a client resuming with Last-Event-ID (an
   * audit position) misses nothing, whichever instance it reconnects to. Without it, the stream
   * starts now. Woken by the command topics, and polling otherwise.
   */
  async streamChanges(q: z.infer<typeof S.ChangeStreamQuery>, lastEventId: string | undefined, ctx: { request: FastifyRequest; reply: FastifyReply }): Promise<void> {
    let cursor: Map<number, number> = lastEventId !== undefined ? decodeAuditCursor(lastEventId) : await this.d.store.auditHeads(this.d.topics.events);
    const kinds = q.kinds ? q.kinds.split(',') : CHANGE_KINDS;
    let told = encodeAuditCursor(cursor);
    await serveEventStream(ctx.reply, this.streamOptions('/v1/changes/stream', `livescope scope changes after ${told}${q.identity ? ` of ${q.identity}` : ''}`), async (w) => {
      while (w.open) {
        const { rows, readTo } = await this.d.store.auditAfter(this.d.topics.events, cursor, kinds, q.identity, SSE_BATCH);
        const position = new Map(cursor);
        for (const r of rows) {
          position.set(r.partition, r.seq);
          told = encodeAuditCursor(position);
          await w.event({ id: told, event: r.kind, data: changeItem(r) });
        }
        cursor = readTo;
        if (rows.length >= SSE_BATCH) continue;
        const now = encodeAuditCursor(cursor);
        if (now !== told && w.idleMs >= SSE_KEEPALIVE_MS) {
          // Nothing of interest for a while, but the log moved on: move the client's resume position too.
          await w.event({ id: now, event: 'position', data: {} });
          told = now;
        }
        await w.keepAlive(SSE_KEEPALIVE_MS);
        const woken = await this.d.changeBus.wait(Math.min(this.d.config.ssePollMs, w.remainingMs), w.signal);
        if (woken) await sleep(CHANGE_SETTLE_MS, w.signal);
      }
    });
  }

  // --- enforcement points ------------------------------------------------------------------------
  async enforcers(): Promise<z.input<typeof S.EnforcersList>> {
    const now = Date.now();
    const rows = await this.d.store.listEnforcers();
    const views = rows.map((r) => enforcerView(r, this.d.tracker.staleness(r.enforcerId, now, STALENESS_GRACE_MS), now, this.d.config.enforcerLivenessMs));
    return { enforcers: views, known: views.filter((v) => v.live).length };
  }

  /** Refreshes the enforcer gauges (called before each scrape). */
  async refreshEnforcerGauges(): Promise<void> {
    const { enforcers, known } = await this.enforcers();
    this.d.metrics.enforcersKnown.set(known);
    for (const e of enforcers) {
      this.d.metrics.enforcerSilence.set({ enforcer: e.enforcerId }, e.silenceMs / 1000);
      if (e.stalenessMs !== null) this.d.metrics.enforcerStaleness.set({ enforcer: e.enforcerId }, e.stalenessMs / 1000);
    }
  }

  // --- operations ------------------------------------------------------------------------------
  readiness(): ReturnType<ServiceDeps['readiness']> {
    return this.d.readiness();
  }

  async metricsText(): Promise<{ contentType: string; text: string }> {
    await this.refreshEnforcerGauges().catch((e: Error) => this.d.logger.warn({ err: e.message }, 'enforcer gauges not refreshed'));
    return this.d.renderMetrics();
  }

  openApi(): unknown {
    return this.d.openApi();
  }
}

function orderFromRow(row: OrderRow): Omit<S.ActiveOrderView, 'partitions' | 'actions'> {
  return { orderId: row.orderId, kind: row.kind as S.ActiveOrderView['kind'], actor: row.actor, reason: row.reason, target: JSON.parse(row.target) as S.ActiveOrderView['target'], issuedAt: row.issuedAt, expiresAt: row.expiresAt };
}

