import type { LivescopeEvent } from '@livescope/contracts';
import type { EventPublisher } from '@livescope/transport';
import type { Producer } from 'kafkajs';
import { ControlPlaneError } from '../ControlPlaneError.js';

/** Partition → offset of each copy of a published event. */
export type PublishedOffsets = Record<string, string>;

/**
 * Publishes the control plane's events through the EventPublisher's encoding (wire format;
 * broadcast events copied to every partition, identity events keyed by identity) with acks=all,
 * and returns where each copy landed. The idempotent producer retries without bound, so the wait
 * is bounded here: past `timeoutMs` the caller is told the outcome is unconfirmed, and `late`
 * receives the offsets if the write completes afterwards.
 */
export class EventSender {
  constructor(
    private readonly producer: Producer,
    private readonly publisher: EventPublisher,
    private readonly timeoutMs: number,
  ) {}

  get partitions(): number {
    return this.publisher.partitions;
  }

  async send(event: LivescopeEvent, nowMs: number, late: (offsets: PublishedOffsets) => void): Promise<PublishedOffsets> {
    const sending = this.producer.send({ topic: this.publisher.topic, acks: -1, messages: this.publisher.messages([event], nowMs) }).then((meta) => {
      const out: PublishedOffsets = {};
      for (const m of meta) out[String(m.partition)] = m.baseOffset ?? m.offset ?? '-1';
      return out;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.timeoutMs)));
    try {
      const first = await Promise.race([sending, timeout]);
      if (first !== 'timeout') return first;
    } finally {
      clearTimeout(timer);
    }
    sending.then(late, () => undefined);
    const message = `Kafka did not confirm event ${event.id} within ${this.timeoutMs} ms; it may still be written`;
    throw new ControlPlaneError('UNAVAILABLE', message, { component: 'kafka', publicMessage: message, context: { eventId: event.id, published: 'unknown' } });
  }
}
