import type { SetSigner } from '@livescope/caep';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ReceiverClient } from '../config.js';
import type { ReceiverClients } from './ReceiverClients.js';
import { SsfHttpError } from './SsfHttpError.js';
import { PollRequest, StatusUpdate, StreamRequest, SubjectRequest, VerificationRequest } from './streamRequests.js';
import type { Transmitter } from './Transmitter.js';

export interface TransmitterRouteDeps {
  readonly transmitter: Transmitter;
  readonly signer: SetSigner;
  readonly clients: ReceiverClients;
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
 * verification (bearer-authenticated receiver clients) and the RFC 8936 poll endpoint.
 */
export function registerTransmitterRoutes(app: FastifyInstance, deps: TransmitterRouteDeps): void {
  const { transmitter: t, signer, clients } = deps;
  const auth = (req: FastifyRequest): ReceiverClient => {
    const c = clients.authenticate(req.headers.authorization);
    if (!c) throw new SsfHttpError(401, 'a valid bearer token is required', 'authentication_failed');
    return c;
  };
  const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store');

  app.get('/.well-known/ssf-configuration', () => t.metadata());
  app.get('/ssf/jwks.json', () => signer.jwks());

  app.post('/ssf/streams', async (req, reply) => noStore(reply).code(201).send(await t.create(auth(req), parse(StreamRequest, req.body))));
  app.get('/ssf/streams', async (req, reply) => noStore(reply).send(await t.read(auth(req), streamIdOf(req))));
  app.patch('/ssf/streams', async (req, reply) => noStore(reply).send(await t.update(auth(req), parse(StreamRequest, req.body))));
  app.put('/ssf/streams', async (req, reply) => noStore(reply).send(await t.replace(auth(req), parse(StreamRequest, req.body))));
  app.delete('/ssf/streams', async (req, reply) => {
    const client = auth(req);
    const id = streamIdOf(req);
    if (!id) throw new SsfHttpError(400, 'stream_id is required');
    await t.remove(client, id);
    return reply.code(204).send();
  });

  app.get('/ssf/status', async (req, reply) => {
    const client = auth(req);
    const id = streamIdOf(req);
    if (!id) throw new SsfHttpError(400, 'stream_id is required');
    return noStore(reply).send(await t.status(client, id));
  });
  app.post('/ssf/status', async (req, reply) => noStore(reply).send(await t.setStatus(auth(req), parse(StatusUpdate, req.body))));

  app.post('/ssf/subjects/add', async (req, reply) => {
    await t.subject(auth(req), parse(SubjectRequest, req.body), true);
    return reply.code(200).send();
  });
  app.post('/ssf/subjects/remove', async (req, reply) => {
    await t.subject(auth(req), parse(SubjectRequest, req.body), false);
    return reply.code(204).send();
  });
  app.post('/ssf/verify', async (req, reply) => {
    await t.verify(auth(req), parse(VerificationRequest, req.body));
    return reply.code(204).send();
  });
  app.post<{ Params: { streamId: string } }>('/ssf/poll/:streamId', async (req, reply) => noStore(reply).send(await t.poll(auth(req), req.params.streamId, parse(PollRequest, req.body))));
}
