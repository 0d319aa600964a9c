import type { SetSigner } from '@livescope/caep';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { OAuthTokenIssuer } from './OAuthTokenIssuer.js';
import type { ReceiverClients, StreamClient } from './ReceiverClients.js';
import { SsfHttpError } from './SsfHttpError.js';
import { PollRequest, StatusUpdate, StreamRequest, SubjectRequest, VerificationRequest } from './streamRequests.js';
import type { Transmitter } from './Transmitter.js';

export interface TransmitterRouteDeps {
  readonly transmitter: Transmitter;
  readonly signer: SetSigner;
  readonly clients: ReceiverClients;
  /** OAuth 2.0 client-credentials token endpoint for receivers (absent: static bearer tokens only). */
  readonly oauth?: OAuthTokenIssuer;
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new SsfHttpError(400, `invalid request: ${r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

const streamIdOf = (req: FastifyRequest): string | undefined => {
  const q = req.query as { stream_id?: unknown };
  return typeof q.stream_id === 'string' && q.stream_id ? q.stream_id : undefined;
};

/**
 * SSF 1.0 transmitter endpoints: discovery and JWKS (public), stream management, status, subjects,
 * verification (authenticated receiver clients) and the RFC 8936 poll endpoint. Each endpoint is also
 * served at the path of the specification's examples (`/ssf/stream`, `/ssf/subjects:add`,
 * `/ssf/subjects:remove`), so requests written after the specification work as they are.
 */
export function registerTransmitterRoutes(app: FastifyInstance, deps: TransmitterRouteDeps): void {
  const { transmitter: t, signer, clients, oauth } = deps;
  const auth = async (req: FastifyRequest): Promise<StreamClient> => {
    const c = await clients.authenticate(req.headers.authorization);
    if (!c) throw new SsfHttpError(401, 'a valid bearer token is required', 'authentication_failed');
    return c;
  };
  const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store');

  app.get('/.well-known/ssf-configuration', (_req, reply) => reply.type('application/json').send(t.metadata()));
  // An issuer with a path component publishes at /.well-known/ssf-configuration/<path> (SSF 1.0 §7.2).
  app.get<{ Params: { '*': string } }>('/.well-known/ssf-configuration/*', (req, reply) => {
    const issuerPath = new URL(t.metadata().issuer as string).pathname.replace(/^\/+|\/+$/g, '');
    if (issuerPath === '' || req.params['*'].replace(/\/+$/, '') !== issuerPath) throw new SsfHttpError(404, 'no transmitter with this issuer path');
    return reply.type('application/json').send(t.metadata());
  });
  app.get('/ssf/jwks.json', () => signer.jwks());

  if (oauth) {
    app.get('/.well-known/oauth-authorization-server', () => oauth.metadata());
    app.post('/ssf/oauth/token', async (req, reply) => {
      const form = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, string>;
      const r = await oauth.token(req.headers.authorization, form);
      return reply.code(r.status).headers(r.headers).send(r.body);
    });
  }

  for (const path of ['/ssf/streams', '/ssf/stream']) {
    app.post(path, async (req, reply) => noStore(reply).code(201).send(await t.create(await auth(req), parse(StreamRequest, req.body))));
    app.get(path, async (req, reply) => noStore(reply).send(await t.read(await auth(req), streamIdOf(req))));
    app.patch(path, async (req, reply) => noStore(reply).send(await t.update(await auth(req), parse(StreamRequest, req.body))));
    app.put(path, async (req, reply) => noStore(reply).send(await t.replace(await auth(req), parse(StreamRequest, req.body))));
    app.delete(path, async (req, reply) => {
      const client = await auth(req);
      const id = streamIdOf(req);
      if (!id) throw new SsfHttpError(400, 'stream_id is required');
      await t.remove(client, id);
      return noStore(reply).code(204).send();
    });
  }

  app.get('/ssf/status', async (req, reply) => {
    const client = await auth(req);
    const id = streamIdOf(req);
    if (!id) throw new SsfHttpError(400, 'stream_id is required');
    return noStore(reply).send(await t.status(client, id));
  });
  app.post('/ssf/status', async (req, reply) => noStore(reply).send(await t.setStatus(await auth(req), parse(StatusUpdate, req.body))));

  // Fastify writes a literal colon in a path as '::'.
  for (const path of ['/ssf/subjects/add', '/ssf/subjects::add']) {
    app.post(path, async (req, reply) => {
      await t.subject(await auth(req), parse(SubjectRequest, req.body), true);
      return noStore(reply).code(200).send();
    });
  }
  for (const path of ['/ssf/subjects/remove', '/ssf/subjects::remove']) {
    app.post(path, async (req, reply) => {
      await t.subject(await auth(req), parse(SubjectRequest, req.body), false);
      return noStore(reply).code(204).send();
    });
  }
  app.post('/ssf/verify', async (req, reply) => {
    await t.verify(await auth(req), parse(VerificationRequest, req.body));
    return noStore(reply).code(204).send();
  });
  app.post<{ Params: { streamId: string } }>('/ssf/poll/:streamId', async (req, reply) => noStore(reply).send(await t.poll(await auth(req), req.params.streamId, parse(PollRequest, req.body))));
}
