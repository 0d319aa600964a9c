import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { OperationsService, type OperationsDeps } from './OperationsService.js';

/** What kafkajs says when the broker is gone: a host and a port an answer must not show. */
class KafkaJSConnectionError extends Error {
  override name = 'KafkaJSConnectionError';
  readonly retriable = true;
}
const KAFKA_TEXT = 'Connection error: connect ECONNREFUSED 10.20.30.40:9092';

function service(probes: Partial<OperationsDeps['probes']>, consumers = 'ok', probeTimeoutMs = 3000) {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  const ok = (): Promise<void> => Promise.resolve();
  const svc = new OperationsService({
    probes: { kafka: ok, registry: ok, postgres: ok, ...probes },
    consumers: () => consumers,
    probeTimeoutMs,
    beforeScrape: ok,
    renderMetrics: () => Promise.resolve({ contentType: 'text/plain', text: '' }),
    logger,
  });
  return { svc, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown> & { err?: { message: string } }) };
}

describe('readiness', () => {
  it('is ready with every check ok, and carries no correlation id then', async () => {
    expect(await service({}).svc.readiness('r-1')).toEqual({ ready: true, checks: { kafka: 'ok', registry: 'ok', postgres: 'ok', consumers: 'ok' } });
  });

  it('names an unreachable Kafka unavailable, never its error, which is logged under the correlation id', async () => {
    const { svc, lines } = service({ kafka: () => Promise.reject(new KafkaJSConnectionError(KAFKA_TEXT)) });
    const r = await svc.readiness('r-2');
    expect(r).toEqual({ ready: false, checks: { kafka: 'unavailable', registry: 'ok', postgres: 'ok', consumers: 'ok' }, correlationId: 'r-2' });
    expect(JSON.stringify(r)).not.toMatch(/ECONNREFUSED|10\.20\.30\.40|KafkaJS/);
    expect(lines()).toEqual([expect.objectContaining({ reqId: 'r-2', dependency: 'kafka', err: expect.objectContaining({ message: KAFKA_TEXT, type: 'KafkaJSConnectionError' }) as unknown })]);
  });

  it('counts a probe that does not answer in time, and consumers that crashed, as unavailable', async () => {
    const { svc, lines } = service({ postgres: () => new Promise(() => undefined) }, 'crashed: KafkaJSNumberOfRetriesExceeded at 10.20.30.40', 20);
    const r = await svc.readiness('r-3');
    expect(r.checks).toEqual({ kafka: 'ok', registry: 'ok', postgres: 'unavailable', consumers: 'unavailable' });
    expect(JSON.stringify(r)).not.toContain('10.20.30.40');
    expect(lines().map((l) => l.dependency)).toEqual(['postgres', 'consumers']);
    expect(lines()[1]).toMatchObject({ reqId: 'r-3', health: expect.stringContaining('10.20.30.40') as unknown });
  });
});
