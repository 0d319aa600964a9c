import { z } from 'zod';

/** The parts of an AWS CloudTrail event the adapter reads; unknown members are kept and ignored. */
const str = z.string().max(8192);

export const SessionIssuer = z.looseObject({ type: str.optional(), principalId: str.optional(), arn: str.optional(), accountId: str.optional(), userName: str.optional() });

export const UserIdentity = z.looseObject({
  type: str.optional(),
  principalId: str.optional(),
  arn: str.optional(),
  accountId: str.optional(),
  accessKeyId: str.optional(),
  userName: str.optional(),
  invokedBy: str.optional(),
  identityProvider: str.optional(),
  sessionContext: z
    .looseObject({
      attributes: z.looseObject({ creationDate: str.optional(), mfaAuthenticated: str.optional() }).nullable().optional(),
      sessionIssuer: SessionIssuer.nullable().optional(),
      webIdFederationData: z.looseObject({ federatedProvider: str.optional(), attributes: z.record(z.string(), z.unknown()).nullable().optional() }).nullable().optional(),
      sourceIdentity: str.optional(),
      ec2RoleDelivery: str.optional(),
    })
    .nullable()
    .optional(),
});
export type UserIdentity = z.infer<typeof UserIdentity>;

export const CloudTrailEvent = z.looseObject({
  eventVersion: str.optional(),
  userIdentity: UserIdentity,
  eventTime: str,
  eventSource: z.string().min(1).max(256),
  eventName: z.string().min(1).max(256),
  eventType: str.optional(),
  awsRegion: str.optional(),
  sourceIPAddress: str.optional(),
  userAgent: str.optional(),
  errorCode: str.optional(),
  errorMessage: str.optional(),
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
  responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
  additionalEventData: z.record(z.string(), z.unknown()).nullable().optional(),
  requestID: str.optional(),
  eventID: z.string().min(1).max(256),
  sharedEventID: str.optional(),
  readOnly: z.boolean().optional(),
  resources: z.array(z.looseObject({ ARN: str.optional(), arn: str.optional(), accountId: str.optional(), type: str.optional() })).nullable().optional(),
  recipientAccountId: str.optional(),
  vpcEndpointId: str.optional(),
});
export type CloudTrailEvent = z.infer<typeof CloudTrailEvent>;
