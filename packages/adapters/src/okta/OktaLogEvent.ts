import { z } from 'zod';

const str = z.string().max(4096);

export const OktaActor = z.looseObject({ id: z.string().min(1).max(256), type: z.string().max(128), alternateId: str.nullable().optional(), displayName: str.nullable().optional() });
export const OktaTarget = z.looseObject({
  id: z.string().max(256),
  type: z.string().max(128),
  alternateId: str.nullable().optional(),
  displayName: str.nullable().optional(),
  detailEntry: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type OktaTarget = z.infer<typeof OktaTarget>;

/** The parts of an Okta System Log LogEvent the adapter reads. */
export const OktaLogEvent = z.looseObject({
  uuid: z.string().min(1).max(256),
  published: str,
  eventType: z.string().min(1).max(256),
  legacyEventType: str.nullable().optional(),
  displayMessage: str.nullable().optional(),
  actor: OktaActor,
  client: z.looseObject({ ipAddress: str.nullable().optional(), id: str.nullable().optional() }).nullable().optional(),
  outcome: z.looseObject({ result: str, reason: str.nullable().optional() }).nullable().optional(),
  target: z.array(OktaTarget).max(256).nullable().optional(),
  debugContext: z.looseObject({ debugData: z.record(z.string(), z.unknown()).nullable().optional() }).nullable().optional(),
  transaction: z.looseObject({ id: str.nullable().optional(), type: str.nullable().optional(), detail: z.record(z.string(), z.unknown()).nullable().optional() }).nullable().optional(),
  authenticationContext: z.looseObject({ externalSessionId: str.nullable().optional() }).nullable().optional(),
});
export type OktaLogEvent = z.infer<typeof OktaLogEvent>;
