import { DeliveryMethod, SubjectIdentifier } from '@livescope/caep';
import { z } from 'zod';

const url = z.url().max(2048);
const eventUris = z.array(z.string().min(1).max(512)).max(64);

/** The delivery member of a create/replace request. Without one, the stream is polled (SSF 1.0 §8.1.1.1). */
export const DeliveryRequest = z.union([
  z.looseObject({ method: z.literal(DeliveryMethod.push), endpoint_url: url, authorization_header: z.string().min(1).max(4096).optional() }),
  z.looseObject({ method: z.literal(DeliveryMethod.poll), endpoint_url: url.optional() }),
]);

/** POST (create) and PUT (replace, with `stream_id`) bodies: Receiver-Supplied properties, and Transmitter-Supplied ones checked when present. */
export const StreamRequest = z.looseObject({
  stream_id: z.string().min(1).max(128).optional(),
  iss: z.string().optional(),
  aud: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(16)]).optional(),
  delivery: DeliveryRequest.optional(),
  events_requested: eventUris.optional(),
  events_supported: eventUris.optional(),
  events_delivered: eventUris.optional(),
  description: z.string().max(1024).optional(),
  min_verification_interval: z.number().int().optional(),
});
export type StreamRequest = z.infer<typeof StreamRequest>;

export const StatusUpdate = z.looseObject({ stream_id: z.string().min(1).max(128), status: z.enum(['enabled', 'paused', 'disabled']), reason: z.string().max(1024).optional(), subject: SubjectIdentifier.optional() });
export const SubjectRequest = z.looseObject({ stream_id: z.string().min(1).max(128), subject: SubjectIdentifier, verified: z.boolean().optional() });
export const VerificationRequest = z.looseObject({ stream_id: z.string().min(1).max(128), state: z.string().max(4096).optional() });

/** RFC 8936 poll request. */
export const PollRequest = z.looseObject({
  maxEvents: z.number().int().min(0).max(1000).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().min(1).max(256)).max(1000).optional(),
  setErrs: z.record(z.string(), z.looseObject({ err: z.string(), description: z.string().optional() })).optional(),
});
