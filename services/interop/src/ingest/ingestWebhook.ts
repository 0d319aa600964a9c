import { fastify, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from '@livescope/transport';
import { emptyStats, type IngestPipeline, type IngestStats } from './IngestPipeline.js';
import type { IngestMetrics } from './IngestMetrics.js';
import { SIGNATURE_HEADER, webhookAuthFailure, type WebhookAuthConfig } from './webhookAuth.js';

export interface IngestWebhookOptions {
  readonly source: string;
  /** Largest request body (bytes); larger ones are answered 413 without being read further. */
  readonly bodyLimit: number;
  readonly logger: Logger;
  /** Required: a bearer token and/or an HMAC secret (see `webhookAuthFailure`). */
  readonly auth: WebhookAuthConfig;
  readonly metrics?: IngestMetrics;
}

const delta = (before: IngestStats, after: IngestStats) => ({
  records: after.records - before.records,
  events: after.events - before.events,
  deadLetters: after.deadLetters - before.deadLetters,
  skipped: after.skipped - before.skipped,
  withheld: after.withheld - before.withheld,
});

/**
 * The HTTP face of `livescope-ingest --listen`: `POST /ingest` (or `/ingest/<source>`) with records
 * as JSON (one document, an array, a CloudTrail Records file, a Kubernetes EventList) or as text
 * (JSON lines, JWT lines). Every request must authenticate (bearer token and/or HMAC of the body);
 * bodies over `bodyLimit` are refused with 413. Requests are processed one at a time through one
 * pipeline, so adapter state (Vault request/response joins) spans requests. Answers 202 with the
 * counts of the request once its events are durable in Kafka, 503 when Kafka refused them (retry the
 * request: ids are deterministic, the pipeline drops duplicates).
 */
export function ingestWebhook(pipeline: IngestPipeline, o: IngestWebhookOptions): FastifyInstance {
  if (o.auth.token === undefined && o.auth.hmacSecret === undefined) throw new TypeError('the ingest webhook needs a bearer token or an HMAC secret');
  const app = fastify({ bodyLimit: o.bodyLimit, logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const count = (outcome: string): void => o.metrics?.requests.inc({ outcome });
  app.setErrorHandler((error, _req, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) {
      count('too-large');
      return reply.code(413).send({ error: 'too-large', message: `the body exceeds ${o.bodyLimit} bytes (--body-limit)` });
    }
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ error: 'bad-request', message: error instanceof Error ? error.message : String(error) });
    o.logger.error({ err: error }, 'ingest webhook: request failed');
    return reply.code(500).send({ error: 'internal' });
  });
  let queue: Promise<unknown> = Promise.resolve();
  const handler = async (body: string): Promise<ReturnType<typeof delta>> => {
    const before = { ...pipeline.stats };
    await pipeline.push(body.endsWith('\n') ? body : `${body}\n`);
    await pipeline.flush();
    return delta(before, pipeline.stats);
  };
  const unauthenticated = (reply: FastifyReply, why: string) => {
    count('unauthenticated');
    return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthenticated', message: why });
  };
  // A missing or wrong bearer token is refused before the body is read.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST' || o.auth.token === undefined) return;
    const why = webhookAuthFailure({ token: o.auth.token }, req.headers.authorization, undefined, Buffer.alloc(0));
    if (why) return unauthenticated(reply, why);
  });
  const route = async (req: { body: unknown; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.headers[SIGNATURE_HEADER];
    const why = webhookAuthFailure(o.auth, req.headers.authorization as string | undefined, Array.isArray(signature) ? signature[0] : signature, body);
    if (why) return unauthenticated(reply, why);
    const run = queue.then(() => handler(body.toString('utf8')));
    queue = run.catch(() => undefined);
    try {
      const counts = await run;
      count('accepted');
      return reply.code(202).send({ source: o.source, ...counts });
    } catch (e) {
      o.logger.error({ err: e }, 'ingest webhook: writing to Kafka failed');
      count('kafka-unavailable');
      return reply.code(503).send({ error: 'kafka-unavailable', message: 'the events could not be written to Kafka; retry the request' });
    }
  };
  app.post('/ingest', route);
  app.post(`/ingest/${o.source}`, route);
  app.get('/healthz', () => ({ ok: true, source: o.source, totals: pipeline.stats ?? emptyStats() }));
  if (o.metrics) {
    const registry = o.metrics.registry;
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }
  return app;
}
