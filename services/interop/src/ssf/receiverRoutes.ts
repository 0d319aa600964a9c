import type { FastifyInstance } from 'fastify';
import type { SetReceiver } from './SetReceiver.js';

/** `POST /ssf/receiver/push`: the RFC 8935 endpoint transmitters push SETs to. */
export function registerReceiverRoutes(app: FastifyInstance, receiver: SetReceiver): void {
  app.post('/ssf/receiver/push', async (req, reply) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const outcome = await receiver.receive(body, req.headers.authorization);
    return outcome.body ? reply.code(outcome.status).type('application/json').send(outcome.body) : reply.code(outcome.status).send();
  });
}
