import type { TopicNames } from '@livescope/contracts';
import type { z } from 'zod';
import type { ControlPlaneConfig } from '../../config.js';
import { KEEP_ALIVE_MS, STREAM_BATCH, type EventStreamSource } from '../../http/EventStream.js';
import { sleep } from '../../sleep.js';
import type { AlertBus } from '../../tracking/AlertBus.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import { decodeAuditCursor, encodeAuditCursor } from './auditCursor.js';
import { changeItem } from './changeItem.js';
import type { ChangesRepository } from './ChangesRepository.js';
import type { ChangesApi } from './routes.js';
import type * as S from './schemas.js';

export interface ChangesDeps {
  readonly config: Pick<ControlPlaneConfig, 'ssePollMs'>;
  /** The events topic whose partitions the audit log is kept per (`TopicNames.events`). */
  readonly eventsTopic: TopicNames['events'];
  readonly repository: ChangesRepository;
  /** Woken when the command follower reads scope changes or revocations (the workers commit them right after). */
  readonly changeBus: AlertBus;
}

/** After a wake-up, give the workers' commit a moment to land before reading PostgreSQL. */
const CHANGE_SETTLE_MS = 100;
const CHANGE_KINDS = ['scope.change', 'revocation'];
const isChangesKey = (k: readonly unknown[]): k is [string, string, number, number] =>
  k.length === 4 && typeof k[0] === 'string' && typeof k[1] === 'string' && !Number.isNaN(Date.parse(k[1])) && Number.isSafeInteger(k[2]) && Number.isSafeInteger(k[3]);

/** The fleet-wide change feed: the newest scope changes and revocations, and their live stream. */
export class ChangesService implements ChangesApi {
  constructor(private readonly d: ChangesDeps) {}

  /**
   * The newest scope changes and revocations fleet-wide, a page at a time, and the position to follow
   * on from. Later pages read the log as the first page found it (its heads are in the cursor), so
   * rows written meanwhile neither shift a page nor repeat.
   */
  async changes(q: z.infer<typeof S.ChangesQuery>): Promise<z.input<typeof S.ChangesList>> {
    const from = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isChangesKey);
    const heads = from ? decodeAuditCursor(from[0], 'query.cursor') : await this.d.repository.auditHeads(this.d.eventsTopic);
    const before = from ? { at: from[1], partition: from[2], seq: from[3] } : undefined;
    const rows = await this.d.repository.latestAudit(heads, q.kinds ? q.kinds.split(',') : CHANGE_KINDS, before, q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const position = encodeAuditCursor(heads);
    return { items: page.map(changeItem), position, nextCursor: rows.length > q.limit && last ? encodeCursor([position, last.at, last.partition, last.seq]) : null };
  }

  /**
   * Server-Sent Events of scope changes and revocations (`event: scope.change | revocation`) read
   * from the audit log, where the workers commit them, so a client resuming with Last-Event-ID (an
   * audit position) misses nothing, whichever instance it reconnects to. Without it, the stream
   * starts now. Woken by the command topics, and polling otherwise.
   */
  async streamChanges(q: z.infer<typeof S.ChangeStreamQuery>, lastEventId: string | undefined): Promise<EventStreamSource> {
    let cursor: Map<number, number> = lastEventId !== undefined ? decodeAuditCursor(lastEventId) : await this.d.repository.auditHeads(this.d.eventsTopic);
    const kinds = q.kinds ? q.kinds.split(',') : CHANGE_KINDS;
    let told = encodeAuditCursor(cursor);
    return {
      intro: `livescope scope changes after ${told}${q.identity ? ` of ${q.identity}` : ''}`,
      run: async (w) => {
        while (w.open) {
          const { rows, readTo } = await this.d.repository.auditAfter(this.d.eventsTopic, cursor, kinds, q.identity, STREAM_BATCH);
          const position = new Map(cursor);
          for (const r of rows) {
            position.set(r.partition, r.seq);
            told = encodeAuditCursor(position);
            await w.event({ id: told, event: r.kind, data: changeItem(r) });
          }
          cursor = readTo;
          if (rows.length >= STREAM_BATCH) continue;
          const now = encodeAuditCursor(cursor);
          if (now !== told && w.idleMs >= KEEP_ALIVE_MS) {
            // Nothing of interest for a while, but the log moved on: move the client's resume position too.
            await w.event({ id: now, event: 'position', data: {} });
            told = now;
          }
          await w.keepAlive(KEEP_ALIVE_MS);
          const woken = await this.d.changeBus.wait(Math.min(this.d.config.ssePollMs, w.remainingMs), w.signal);
          if (woken) await sleep(CHANGE_SETTLE_MS, w.signal);
        }
      },
    };
  }
}
