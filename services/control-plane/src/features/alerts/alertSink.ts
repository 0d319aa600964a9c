import { decodeMessage, DriftAlert } from '@livescope/contracts';
import type { Logger } from '@livescope/transport';
import type { ControlPlaneMetrics } from '../../ControlPlaneMetrics.js';
import type { BatchHandler } from '../../kafka/PgOffsetConsumer.js';
import type { AlertBus } from '../../tracking/AlertBus.js';
import type { AlertsRepository } from './AlertsRepository.js';

const DECODE = { maxBytes: 16 * 1024 * 1024, isKnownSchemaId: () => true };

/** Stores drift alerts (from workers and enforcers alike) in cp_alerts and wakes the SSE streams. */
export function alertSink(store: AlertsRepository, bus: AlertBus, metrics: ControlPlaneMetrics, logger: Logger): BatchHandler {
  return async (client, batch) => {
    const alerts: DriftAlert[] = [];
    for (const m of batch.messages) {
      try {
        alerts.push(decodeMessage(DriftAlert, m.value, DECODE, 'drift alert'));
      } catch (e) {
        metrics.consumed.inc({ topic: 'alerts.drift', outcome: 'poison' });
        logger.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, err: e }, 'unreadable alert skipped');
      }
    }
    const inserted = await store.insertAlerts(client, alerts);
    return () => {
      metrics.consumed.inc({ topic: 'alerts.drift', outcome: 'applied' }, inserted.length);
      metrics.consumed.inc({ topic: 'alerts.drift', outcome: 'skipped' }, alerts.length - inserted.length);
      for (const a of inserted) metrics.alertsStored.inc({ type: a.type, severity: a.severity });
      if (inserted.length > 0) bus.notify();
    };
  };
}
