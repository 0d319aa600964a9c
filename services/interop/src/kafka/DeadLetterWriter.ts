import { DeadLetter, encodeWireJson, type DeadLetterReason } from '@livescope/contracts';
import type { Producer } from 'kafkajs';

export interface DeadLetterOrigin {
  /** Where the input came from: a Kafka topic, or `ingest:<source>:<file|stdin|webhook>`. */
  readonly topic: string;
  /** Kafka partition, or -1 for input that did not come from Kafka. */
  readonly partition: number;
  /** Kafka offset, or the ordinal of the record in its input. */
  readonly offset: string;
  readonly timestamp: string;
  readonly key?: string;
}

export interface DeadLetterInput {
  readonly reason: DeadLetterReason;
  readonly message: string;
  readonly origin: DeadLetterOrigin;
  readonly value: Buffer;
  readonly eventId?: string;
  readonly eventType?: string;
}

/** Writes `DeadLetter` records (the contract) to the dead-letter topic, original bytes in base64. */
export class DeadLetterWriter {
  constructor(
    private readonly producer: Producer,
    readonly topic: string,
    private readonly schemaId: number,
    private readonly writerId: string,
  ) {}

  build(d: DeadLetterInput): DeadLetter {
    return DeadLetter.parse({
      kind: 'dead-letter',
      reason: d.reason,
      message: d.message.slice(0, 4096),
      source: { topic: d.origin.topic, partition: d.origin.partition, offset: d.origin.offset, timestamp: d.origin.timestamp, ...(d.origin.key === undefined ? {} : { key: Buffer.from(d.origin.key).toString('base64') }) },
      value: d.value.toString('base64'),
      ...(d.eventId ? { eventId: d.eventId } : {}),
      ...(d.eventType ? { eventType: d.eventType } : {}),
      workerId: this.writerId,
    });
  }

  async write(letters: readonly DeadLetterInput[]): Promise<DeadLetter[]> {
    if (letters.length === 0) return [];
    const built = letters.map((d) => this.build(d));
    await this.producer.send({ topic: this.topic, acks: -1, messages: built.map((d) => ({ key: null, value: encodeWireJson(this.schemaId, d) })) });
    return built;
  }
}
