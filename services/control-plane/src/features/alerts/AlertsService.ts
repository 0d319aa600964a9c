import type { Logger } from '@livescope/transport';
import type { z } from 'zod';
import type { Principal } from '../../auth/roles.js';
import type { ControlPlaneConfig } from '../../config.js';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { KEEP_ALIVE_MS, STREAM_BATCH, type EventStreamSource } from '../../http/EventStream.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { AlertBus } from '../../tracking/AlertBus.js';
import type { AlertsRepository } from './AlertsRepository.js';
import type { AlertsApi } from './routes.js';
import type * as S from './schemas.js';
import { alertView, severitiesFrom } from './views.js';

const isAlertKey = (k: readonly unknown[]): k is [string] => k.length === 1 && typeof k[0] === 'string' && /^\d{1,19}$/.test(k[0]);

export interface AlertsDeps {
  readonly config: Pick<ControlPlaneConfig, 'ssePollMs'>;
  readonly repository: AlertsRepository;
  /** Woken when this instance stored alerts or an acknowledgement. */
  readonly bus: AlertBus;
  readonly logger: Logger;
}

/** What other features may ask of alerts. */
export interface AlertCounts {
  /** Unacknowledged alerts at or after `since` (an instant). */
  unacknowledgedSince(since: string): Promise<number>;
}

/** Drift alerts stored from the alerts topic: pages, a live stream, and acknowledgements. */
export class AlertsService implements AlertsApi, AlertCounts {
  constructor(private readonly d: AlertsDeps) {}

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
    const beforeSeq = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isAlertKey)[0];
    const rows = await this.d.repository.listAlerts({ ...this.alertFilter(q), ...(beforeSeq !== undefined ? { beforeSeq } : {}), limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { alerts: page.map(alertView), nextCursor: rows.length > q.limit && last ? encodeCursor([last.seq]) : null };
  }

  /**
   * Server-Sent Events: every stored alert after `lastEventId` (or from now), then new ones as they
   * are stored; acknowledgements made while the stream is open follow as `alert.acknowledged`
   * events (without an id, so they never move the client's resume position).
   */
  async streamAlerts(q: z.infer<typeof S.AlertStreamQuery>, lastEventId: string | undefined): Promise<EventStreamSource> {
    const filter = this.alertFilter(q);
    let last = lastEventId ?? (await this.d.repository.latestAlertSeq());
    let lastAck = await this.d.repository.latestAckSeq();
    return {
      intro: `livescope drift alerts after ${last}`,
      run: async (w) => {
        while (w.open) {
          const rows = await this.d.repository.listAlerts({ ...filter, afterSeq: last, limit: STREAM_BATCH });
          for (const r of rows) {
            await w.event({ id: r.seq, event: 'drift.alert', data: alertView(r) });
            last = r.seq;
          }
          const acks = await this.d.repository.acknowledgementsAfter(lastAck, STREAM_BATCH);
          for (const a of acks) {
            await w.event({ event: 'alert.acknowledged', data: { id: a.seq, alertId: a.alertId, by: a.by, at: a.at, note: a.note } });
            lastAck = a.ackSeq;
          }
          if (rows.length === STREAM_BATCH || acks.length === STREAM_BATCH) continue;
          await w.keepAlive(KEEP_ALIVE_MS);
          await this.d.bus.wait(Math.min(this.d.config.ssePollMs, w.remainingMs), w.signal);
        }
      },
    };
  }

  async acknowledgeAlert(actor: Principal, id: string, note: string | undefined): Promise<z.input<typeof S.AlertAck>> {
    const r = await this.d.repository.acknowledgeAlert(id, actor.sub, note ?? null);
    if (!r) throw new ControlPlaneError('NOT_FOUND', `alert ${id} is not known`);
    if (!r.created) throw new ControlPlaneError('CONFLICT', `alert ${id} was already acknowledged by ${r.ack.by} at ${r.ack.at}`);
    this.d.bus.notify();
    this.d.logger.info({ alert: id, alertId: r.ack.alertId, actor: actor.sub }, 'alert acknowledged');
    return { id, alertId: r.ack.alertId, by: r.ack.by, at: r.ack.at, note: r.ack.note };
  }

  unacknowledgedSince(since: string): Promise<number> {
    return this.d.repository.unacknowledgedAlerts(since);
  }
}
