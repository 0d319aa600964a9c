import { driftAlertToOcsf, type OcsfOptions } from '@livescope/adapters';
import { DriftAlert, encodeWireJson } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import type { InteropMetrics } from '../InteropMetrics.js';
import type { KafkaContext } from '../kafka/KafkaContext.js';
import { TopicConsumer } from '../kafka/TopicConsumer.js';
import type { WebhookSink } from '../WebhookSink.js';

export interface OcsfBridgeOptions {
  readonly kafka: KafkaContext;
  readonly groupId: string;
  /** The SIEM webhook; absent: findings go to the OCSF topic only. */
  readonly webhook?: WebhookSink;
  readonly ocsf?: OcsfOptions;
  readonly fromBeginning: boolean;
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
}

/**
 * Drift alerts → OCSF Detection Findings (class 2004): published to `livescope.alerts.ocsf.v1`
 * (keyed by identity) and, when configured, POSTed to a SIEM webhook with retries. The topic is the
 * durable copy: a finding the webhook still refuses after its last attempt is counted and logged,
 * and the SIEM can backfill from the topic.
 */
export class OcsfBridge {
  private readonly consumer: TopicConsumer;

  constructor(private readonly o: OcsfBridgeOptions) {
    const log = o.logger.child({ component: 'ocsf-bridge' });
    this.consumer = new TopicConsumer({
      kafka: o.kafka.kafka,
      groupId: o.groupId,
      topics: [{ topic: o.kafka.topics.driftAlerts, schema: DriftAlert }],
      fromBeginning: o.fromBeginning,
      registry: o.kafka.registry,
      deadLetters: o.kafka.deadLetters,
      logger: log,
      metrics: o.metrics,
      handle: async (records, batch) => {
        const topic = o.kafka.topics.ocsfAlerts;
        const schemaId = o.kafka.schemaIdOf(topic);
        const findings = records.map((r) => driftAlertToOcsf(r.value as DriftAlert, o.ocsf ?? {}));
        await o.kafka.producer.send({ topic, acks: -1, messages: records.map((r, i) => ({ key: (r.value as DriftAlert).identityId ?? null, value: encodeWireJson(schemaId, findings[i]) })) });
        o.metrics.findings.inc({ outcome: 'published' }, findings.length);
        if (!o.webhook) return;
        for (const f of findings) {
          const r = await o.webhook.deliver(f, () => batch.heartbeat());
          o.metrics.findings.inc({ outcome: `webhook-${r.outcome}` });
          if (r.outcome !== 'delivered') log.error({ findingUid: f.finding_info.uid, attempts: r.attempts, error: r.error }, 'SIEM webhook did not take the finding; it stays on the OCSF topic');
        }
      },
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }
}
