import type { EnforcerAck } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import type { ControlPlaneMetrics } from '../../ControlPlaneMetrics.js';
import type { BatchHandler } from '../../kafka/PgOffsetConsumer.js';
import { LagWindow } from '../../tracking/LagWindow.js';
import type { AckAuthenticator } from './AckAuthenticator.js';
import type { EnforcerUpdate, EnforcersRepository } from './EnforcersRepository.js';
import { readAck } from './readAck.js';

/** A lag log line per enforcement point at most this often. */
const LOG_EVERY_MS = 30_000;
const MAX_ENFORCERS = 1000;

/**
 * Turns enforcer acknowledgements into `enforcer_status` rows: last seen, identities held, counts,
 * and revocation lag (applied − produced, for scope changes and revocations; bootstrap snapshots
 * are not lag) as p50 / p99 / max over each enforcement point's recent window. Also exported as
 * Prometheus metrics and a periodic log line.
 */
export class EnforcerAckSink {
  private readonly windows = new Map<string, LagWindow>();
  private readonly lastLogged = new Map<string, number>();
  /** When a refusal was last logged, per reason (refusals are counted always, logged at most every LOG_EVERY_MS). */
  private readonly lastRefusalLogged = new Map<string, number>();

  constructor(
    private readonly store: EnforcersRepository,
    private readonly metrics: ControlPlaneMetrics,
    private readonly logger: Logger,
    private readonly auth: AckAuthenticator,
  ) {}

  readonly handler: BatchHandler = async (client, batch) => {
    const byEnforcer = new Map<string, { acks: EnforcerAck[]; samples: { kind: string; ms: number }[]; verified: boolean }>();
    for (const m of batch.messages) {
      let read: ReturnType<typeof readAck>;
      try {
        read = readAck(this.auth, batch.topic, m);
      } catch (e) {
        this.metrics.consumed.inc({ topic: 'enforcer.acks', outcome: 'poison' });
        this.logger.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, err: e }, 'unreadable acknowledgement skipped');
        continue;
      }
      const { ack, verdict } = read;
      if (verdict.kind === 'refused') {
        this.refused(verdict.reason, verdict.detail, batch.partition, m.offset);
        continue;
      }
      let g = byEnforcer.get(ack.enforcerId);
      if (!g) byEnforcer.set(ack.enforcerId, (g = { acks: [], samples: [], verified: true }));
      g.acks.push(ack);
      g.verified &&= verdict.kind === 'verified';
      for (const a of ack.applied) if (a.kind !== 'scope.snapshot') g.samples.push({ kind: a.kind, ms: Date.parse(a.appliedAt) - Date.parse(a.producedAt) });
    }
    const updates: EnforcerUpdate[] = [];
    const windows = new Map<string, LagWindow>();
    for (const [enforcerId, g] of byEnforcer) {
      const latest = g.acks.reduce((a, b) => (Date.parse(b.at) >= Date.parse(a.at) ? b : a));
      let lastApplied: EnforcerUpdate['lastApplied'] = null;
      for (const ack of g.acks) for (const a of ack.applied) if (!lastApplied || Date.parse(a.appliedAt) >= Date.parse(lastApplied.appliedAt)) lastApplied = { identityId: a.identityId, version: a.version, kind: a.kind, appliedAt: a.appliedAt, producedAt: a.producedAt };
      const window = (this.windows.get(enforcerId) ?? new LagWindow()).with(g.samples.map((s) => s.ms));
      windows.set(enforcerId, window);
      const stats = window.stats();
      updates.push({
        enforcerId,
        lastSeen: latest.at,
        identities: latest.identities,
        applied: g.acks.reduce((n, a) => n + a.applied.length, 0),
        rejected: g.acks.reduce((n, a) => n + a.rejected, 0),
        lastApplied,
        lag: stats ? { p50Ms: stats.p50Ms, p99Ms: stats.p99Ms, maxMs: stats.maxMs } : null,
        verified: g.verified,
      });
    }
    await this.store.applyEnforcerUpdates(client, updates);
    return () => this.afterCommit(byEnforcer, windows, updates);
  };

  private refused(reason: string, detail: string, partition: number, offset: string): void {
    this.metrics.acksRefused.inc({ reason });
    const now = Date.now();
    if (now - (this.lastRefusalLogged.get(reason) ?? 0) < LOG_EVERY_MS) return;
    this.lastRefusalLogged.set(reason, now);
    this.logger.warn({ reason, partition, offset, detail }, 'acknowledgement refused: it does not count (further refusals for this reason are counted in livescope_control_plane_enforcer_acks_refused_total)');
  }

  private afterCommit(byEnforcer: Map<string, { acks: EnforcerAck[]; samples: { kind: string; ms: number }[]; verified: boolean }>, windows: Map<string, LagWindow>, updates: readonly EnforcerUpdate[]): void {
    const now = Date.now();
    for (const [id, w] of windows) {
      if (!this.windows.has(id) && this.windows.size >= MAX_ENFORCERS) {
        const oldest = this.windows.keys().next().value as string;
        this.windows.delete(oldest);
        this.lastLogged.delete(oldest);
      }
      this.windows.set(id, w);
    }
    for (const u of updates) {
      const g = byEnforcer.get(u.enforcerId)!;
      for (const s of g.samples) this.metrics.applyLag.observe({ enforcer: u.enforcerId, kind: s.kind }, s.ms / 1000);
      if (u.rejected > 0) this.metrics.enforcerRejected.inc({ enforcer: u.enforcerId }, u.rejected);
      this.metrics.consumed.inc({ topic: 'enforcer.acks', outcome: 'applied' }, g.acks.length);
      if (u.lag) {
        this.metrics.lagQuantiles.set({ enforcer: u.enforcerId, quantile: '0.5' }, u.lag.p50Ms / 1000);
        this.metrics.lagQuantiles.set({ enforcer: u.enforcerId, quantile: '0.99' }, u.lag.p99Ms / 1000);
        this.metrics.lagQuantiles.set({ enforcer: u.enforcerId, quantile: 'max' }, u.lag.maxMs / 1000);
      }
      const last = this.lastLogged.get(u.enforcerId) ?? 0;
      if (u.lag && now - last >= LOG_EVERY_MS) {
        this.lastLogged.set(u.enforcerId, now);
        this.logger.info({ enforcerId: u.enforcerId, identities: u.identities, applied: u.applied, rejected: u.rejected, lagP50Ms: u.lag.p50Ms, lagP99Ms: u.lag.p99Ms, lagMaxMs: u.lag.maxMs, samples: windows.get(u.enforcerId)?.size ?? 0 }, 'enforcer revocation lag');
      }
    }
  }
}
