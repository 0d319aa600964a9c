import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from '@livescope/transport';
import { emptyStats, type IngestPipeline, type IngestStats } from './IngestPipeline.js';

export interface IngestWebhookOptions {
  readonly source: string;
  readonly bodyLimit: number;
  readonly logger: Logger;
}

const delta = (before: IngestStats, after: IngestStats) => ({ records: after.records - before.records, events: after.events - before.events, deadLetters: after.deadLetters - before.deadLetters, skipped: after.skipped - before.skipped });

/**
 * The HTTP face of `livescope-ingest --listen`: `POST /ingest` (or `/ingest/<source>`) with records
 * as JSON (one document, an array, a CloudTrail Records file, a Kubernetes EventList) or as text
 * (JSON lines, JWT lines). Requests are processed one at a time through one pipeline, so adapter
 * state (Vault request/response joins) spans requests. Answers 202 with the counts of the request
 * once its events are durable in Kafka, 503 when Kafka refused them (retry the request: ids are
 * deterministic, the pipeline drops duplicates).
 */
export function ingestWebhook(pipeline: IngestPipeline, o: IngestWebhookOptions): FastifyInstance {
  const app = fastify({ bodyLimit: o.bodyLimit, logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  let queue: Promise<unknown> = Promise.resolve();
  const handler = async (body: string): Promise<ReturnType<typeof delta>> => {
    const before = { ...pipeline.stats };
    await pipeline.push(body.endsWith('\n') ? body : `${body}\n`);
    await pipeline.flush();
    return delta(before, pipeline.stats);
  };
  const route = async (req: { body: unknown }, reply: { code: (n: number) => { send: (b: unknown) => unknown } }) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const run = queue.then(() => handler(body));
    queue = run.catch(() => undefined);
    try {
      return reply.code(202).send({ source: o.source, ...(await run) });
    } catch (e) {
      o.logger.error({ err: e }, 'ingest webhook: writing to Kafka failed');
      return reply.code(503).send({ error: 'kafka-unavailable', message: (e as Error).message });
    }
  };
  app.post('/ingest', route);
  app.post(`/ingest/${o.source}`, route);
  app.get('/healthz', () => ({ ok: true, source: o.source, totals: pipeline.stats ?? emptyStats() }));
  return app;
}
