import type { Logger } from '@livescope/transport';
import { ControlPlaneError } from '../ControlPlaneError.js';
import type { EventSender, PublishedOffsets } from './EventSender.js';

/**
 * Publishes an event durably (acks=all) for a use case that recorded it first: on a definite
 * failure `undo` runs and the caller gets UNAVAILABLE with `context.published` = `no`; on a timeout
 * (`published` = `unknown`) `late` receives the offsets if the write lands after all.
 */
export async function durablePublish(
  sender: EventSender,
  logger: Logger,
  event: Parameters<EventSender['send']>[0],
  nowMs: number,
  late: (o: PublishedOffsets) => Promise<void>,
  undo: () => Promise<void>,
): Promise<PublishedOffsets> {
  try {
    return await sender.send(event, nowMs, (o) => void late(o).catch((e: unknown) => logger.warn({ eventId: event.id, err: e }, 'late publication not recorded')));
  } catch (e) {
    if (ControlPlaneError.is(e)) throw e;
    await undo().catch(() => undefined);
    throw new ControlPlaneError('UNAVAILABLE', `event ${event.id} was not published: ${(e as Error).message}`, {
      cause: e,
      component: 'kafka',
      publicMessage: `event ${event.id} was not published (Kafka unavailable); retry`,
      context: { eventId: event.id, published: 'no' },
    });
  }
}
