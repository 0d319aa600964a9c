import { CaepTopicRecord, draftsForRevocation, draftsForScopeChange, setPayload, type SetDraft, type SetSigner, type SubjectOptions } from '@livescope/caep';
import { encodeWireJson, Revocation, ScopeChange } from '@livescope/contracts';
import type { CommandVerifier, Logger } from '@livescope/transport';
import type { Message } from 'kafkajs';
import type { InteropMetrics } from '../InteropMetrics.js';
import type { KafkaContext } from '../kafka/KafkaContext.js';
import { TopicConsumer } from '../kafka/TopicConsumer.js';
import type { Transmitter } from './Transmitter.js';

export interface CaepBridgeOptions {
  readonly kafka: KafkaContext;
  readonly groupId: string;
  readonly verifier: CommandVerifier;
  readonly signer: SetSigner;
  readonly issuer: () => string;
  readonly topicAudience: string;
  readonly subjects: SubjectOptions;
  /** Streams to fan the SETs out to; absent: only the Kafka topic gets them. */
  readonly transmitter?: Transmitter;
  readonly fromBeginning: boolean;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
}

/**
 * Consumes the pipeline's revocations and scope changes (signature checked: only commands signed by
 * the worker's keys become SETs), turns them into CAEP/RISC SETs, publishes each SET signed to
 * `livescope.caep.events.v1` (keyed by identity) and queues it on the SSF streams that want it.
 * Offsets are committed after both, so a crash re-sends: SET ids are deterministic, receivers drop
 * the copy, the outbox ignores it.
 */
export class CaepBridge {
  private readonly consumer: TopicConsumer;

  constructor(private readonly o: CaepBridgeOptions) {
    const t = o.kafka.topics;
    const verify = (topic: string, key: string | null, value: Buffer, headers: Parameters<CommandVerifier['check']>[3]): void => {
      o.verifier.check(topic, key, value, headers);
    };
    this.consumer = new TopicConsumer({
      kafka: o.kafka.kafka,
      groupId: o.groupId,
      topics: [
        { topic: t.revocations, schema: Revocation, verify },
        { topic: t.scopeChanges, schema: ScopeChange, verify },
      ],
      fromBeginning: o.fromBeginning,
      registry: o.kafka.registry,
      deadLetters: o.kafka.deadLetters,
      logger: o.logger.child({ component: 'caep-bridge' }),
      metrics: o.metrics,
      handle: async (records) => {
        const drafts: SetDraft[] = [];
        for (const r of records) {
          const kind = r.topic === t.revocations ? 'revocation' : 'scope.change';
          const d = kind === 'revocation' ? draftsForRevocation(r.value as Revocation, o.subjects) : draftsForScopeChange(r.value as ScopeChange, o.subjects);
          this.o.metrics.commands.inc({ kind, outcome: d.length ? 'sets' : 'no-set' });
          drafts.push(...d);
        }
        await this.publish(drafts);
        if (this.o.transmitter) this.o.metrics.queuedSets.inc(await this.o.transmitter.fanOut(drafts));
      },
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  private async publish(drafts: readonly SetDraft[]): Promise<void> {
    if (drafts.length === 0) return;
    const topic = this.o.kafka.topics.caepEvents;
    const schemaId = this.o.kafka.schemaIdOf(topic);
    const messages: Message[] = [];
    for (const d of drafts) {
      const payload = setPayload(d, { issuer: this.o.issuer(), audience: this.o.topicAudience, scope: 'topic' });
      const record = CaepTopicRecord.parse({ kind: 'caep.set', jti: payload.jti, iss: payload.iss, aud: payload.aud, identityId: d.identityId ?? '', eventType: d.eventType, ...(payload.txn ? { txn: payload.txn } : {}), set: await this.o.signer.sign(payload), payload });
      messages.push({ key: record.identityId, value: encodeWireJson(schemaId, record) });
    }
    await this.o.kafka.producer.send({ topic, acks: -1, messages });
  }
}
