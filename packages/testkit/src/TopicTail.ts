import { decodeWire } from '@livescope/contracts';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';

export interface TailedMessage<T = unknown> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | undefined;
  readonly timestamp: number;
  readonly headers: IHeaders;
  readonly raw: Buffer;
  /** The decoded JSON payload (wire format), or undefined when the value is not in the wire format. */
  readonly value: T;
}

/** Reads topics from the beginning into memory, so a test can wait for what it expects. */
export class TopicTail {
  readonly messages: TailedMessage[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topics: readonly string[],
  ) {}

  async start(): Promise<this> {
    const consumer = this.kafka.consumer({ groupId: `tail-${randomUUID()}`, maxWaitTimeInMs: 50 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ topic, partition, message }) => {
        let value: unknown;
        try {
          value = JSON.parse(decodeWire(message.value).payload.toString('utf8'));
        } catch {
          value = undefined;
        }
        this.messages.push({ topic, partition, offset: message.offset, key: message.key?.toString(), timestamp: Number(message.timestamp), headers: message.headers ?? {}, raw: message.value ?? Buffer.alloc(0), value });
        return Promise.resolve();
      },
    });
    return this;
  }

  of<T>(topic: string): TailedMessage<T>[] {
    return this.messages.filter((m) => m.topic === topic) as TailedMessage<T>[];
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
