import { encodeWireJson, isBroadcastEvent, LivescopeEvent, parseWith, type LivescopeEventInput } from '@livescope/contracts';
import type { Admin, Message, Producer } from 'kafkajs';
import type { ProducerSigner } from './ProducerKeyring.js';
import { TransportError } from './TransportError.js';

/** Key of broadcast (org-wide) events; they are written to every partition explicitly. */
export const BROADCAST_KEY = '@broadcast';

/**
 * Writes input events to the events topic in the wire format: identity events keyed by identity
 * id, broadcast events copied to every partition (one `sendBatch`, so they land together). A
 * publish resolves only when the broker has the events durably (acks=all). With a `signer`, every
 * event carries its producer signature (one Ed25519 signature per publish, over the Merkle root of
 * the messages; each carries its inclusion proof) (control events are applied only when signed by a key the
 * workers' keyring allows to send them). The broker stamps each message with its own append time.
 */
export class EventPublisher {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    readonly schemaId: number,
    readonly partitions: number,
    private readonly signer?: ProducerSigner,
  ) {}

  static async partitionCount(admin: Admin, topic: string): Promise<number> {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const n = meta.topics[0]?.partitions.length ?? 0;
    if (n === 0) throw new TransportError('TOPIC_METADATA', 'fatal', `topic ${topic} does not exist; run infra/start.sh (it provisions topics)`);
    return n;
  }

  /** Validates, encodes and sends; returns the validated events. */
  async publish(inputs: readonly LivescopeEventInput[], timestampMs = Date.now()): Promise<LivescopeEvent[]> {
    const events = inputs.map((e) => parseWith(LivescopeEvent, e, `event ${(e as { id?: string }).id ?? ''}`));
    await this.producer.send({ topic: this.topic, acks: -1, messages: this.messages(events, timestampMs) });
    return events;
  }

  /**
   * The messages of `events`. `traceHeaders` (`traceparent`, `tracestate`: see traceContext.ts) are
   * added to every message beside the signature headers; no signature covers them.
   */
  messages(events: readonly LivescopeEvent[], timestampMs: number, traceHeaders?: Readonly<Record<string, string>>): Message[] {
    const messages: Message[] = [];
    const timestamp = String(timestampMs);
    for (const e of events) {
      const value = encodeWireJson(this.schemaId, e);
      if (isBroadcastEvent(e)) for (let p = 0; p < this.partitions; p++) messages.push({ key: BROADCAST_KEY, value, partition: p, timestamp });
      else messages.push({ key: e.subject, value, timestamp });
    }
    // One signature for the whole request (a Merkle root; each message carries its proof).
    if (this.signer) {
      const headers = this.signer.batchHeaders(this.topic, messages as { key: string; value: Buffer }[]);
      messages.forEach((m, i) => (m.headers = traceHeaders ? { ...headers[i]!, ...traceHeaders } : headers[i]!));
    } else if (traceHeaders) {
      for (const m of messages) m.headers = { ...traceHeaders };
    }
    return messages;
  }
}
