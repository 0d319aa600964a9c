import { encodeWireJson, type EnforcerAck } from '@livescope/contracts';
import type { CommandSigner } from '@livescope/transport';
import type { IHeaders } from 'kafkajs';
import type { AckBuffer } from './AckBuffer.js';

/** Entries per acknowledgement message (the contract allows 10 000; 2 000 keep a message ~400 KB, far below the broker's 1 MiB). */
export const ACK_ENTRIES_PER_MESSAGE = 2000;

/** The part of a kafkajs producer acknowledgements need (the only I/O boundary of this class). */
export interface AckSend {
  send(record: { topic: string; acks: number; messages: { key: string; value: Buffer; headers?: IHeaders }[] }): Promise<unknown>;
}

export interface AcknowledgerOptions {
  readonly enforcerId: string;
  /** The acknowledgements topic (`topicNames(prefix).enforcerAcks`). */
  readonly topic: string;
  readonly schemaId: number;
  readonly buffer: AckBuffer;
  /** Signs every acknowledgement over (acks topic, key = enforcerId, value) with the enforcement point's own key. */
  readonly signer?: CommandSigner;
  /** Identities held, reported in every acknowledgement. */
  readonly identities: () => number;
  readonly entriesPerMessage?: number;
}

/**
 * Sends what the AckBuffer holds as `enforcer.ack` messages keyed by the enforcer id, in messages
 * of at most `entriesPerMessage` entries, signed when a signer is configured. A send that fails puts
 * its entries back (bounded by the buffer) for the next flush. Flushes never overlap: one asked for
 * while another runs joins it.
 */
export class Acknowledger {
  /** The running flush: a flush asked for meanwhile joins it (it sends whatever is pending until the buffer is empty). */
  private running: Promise<void> | undefined;

  constructor(private readonly o: AcknowledgerOptions) {}

  /** The message of one acknowledgement (value and, when signing, headers). */
  message(applied: EnforcerAck['applied'], rejected: number, nowMs: number): { key: string; value: Buffer; headers?: IHeaders } {
    const ack: EnforcerAck = { kind: 'enforcer.ack', enforcerId: this.o.enforcerId as EnforcerAck['enforcerId'], at: new Date(nowMs).toISOString(), identities: this.o.identities(), applied, rejected };
    const value = encodeWireJson(this.o.schemaId, ack);
    return this.o.signer ? { key: this.o.enforcerId, value, headers: this.o.signer.headers(this.o.topic, this.o.enforcerId, value) } : { key: this.o.enforcerId, value };
  }

  /** Sends everything pending; rejects with the send's error (entries re-queued) when the broker refuses. */
  flush(producer: AckSend, now: () => number = Date.now): Promise<void> {
    // One flush at a time (the producer may wait long for an absent broker: callers must not pile up).
    this.running ??= this.flushNow(producer, now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async flushNow(producer: AckSend, now: () => number): Promise<void> {
    const max = this.o.entriesPerMessage ?? ACK_ENTRIES_PER_MESSAGE;
    const b = this.o.buffer;
    while (b.size > 0 || b.rejected > 0) {
      const taken = b.take(max);
      try {
        await producer.send({ topic: this.o.topic, acks: -1, messages: [this.message(taken.applied, taken.rejected, now())] });
      } catch (e) {
        b.requeue(taken);
        throw e;
      }
    }
  }
}
