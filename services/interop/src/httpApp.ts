import type { SetSigner } from '@livescope/caep';
import type { Logger } from '@livescope/transport';
import { fastify, type FastifyInstance } from 'fastify';
import type { InteropMetrics } from './InteropMetrics.js';
import type { OAuthTokenIssuer } from './ssf/OAuthTokenIssuer.js';
import type { ReceiverClients } from './ssf/ReceiverClients.js';
import { registerReceiverRoutes } from './ssf/receiverRoutes.js';
import type { SetReceiver } from './ssf/SetReceiver.js';
import { SsfHttpError } from './ssf/SsfHttpError.js';
import { registerTransmitterRoutes } from './ssf/transmitterRoutes.js';
import type { Transmitter } from './ssf/Transmitter.js';

export interface HttpAppDeps {
  readonly logger: Logger;
  readonly metrics: InteropMetrics;
  readonly transmitter?: { readonly transmitter: Transmitter; readonly signer: SetSigner; readonly clients: ReceiverClients; readonly oauth?: OAuthTokenIssuer };
  readonly receiver?: SetReceiver;
  /** Readiness checks for `/healthz`. */
  readonly health?: () => Promise<Record<string, string>>;
  /** Largest request body (bytes). Default 1 MiB. */
  readonly bodyLimit?: number;
}

/** The HTTP surface of livescope-interop: SSF transmitter and receiver endpoints, health and metrics. */
export function httpApp(deps: HttpAppDeps): FastifyInstance {
  const app = fastify({ bodyLimit: deps.bodyLimit ?? 1024 * 1024, logger: false });
  app.addContentTypeParser(['application/secevent+jwt', 'application/jwt', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // OAuth 2.0 token requests (RFC 6749 §4.4.2) are form-encoded.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.setErrorHandler((error, req, reply) => {
    if (error instanceof SsfHttpError) {
      return reply.code(error.status).send({ err: error.err ?? (error.status === 401 ? 'authentication_failed' : error.status === 404 ? 'not_found' : error.status === 429 ? 'too_many_requests' : 'invalid_request'), description: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ err: 'invalid_request', description: (error as Error).message });
    deps.logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
    return reply.code(500).send({ err: 'server_error', description: 'internal error' });
  });
  if (deps.transmitter) registerTransmitterRoutes(app, deps.transmitter);
  if (deps.receiver) registerReceiverRoutes(app, deps.receiver);
  app.get('/healthz', async (_req, reply) => {
    const checks = (await deps.health?.()) ?? {};
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ ok, checks });
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
  return app;
}
