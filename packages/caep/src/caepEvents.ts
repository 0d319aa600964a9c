import { z } from 'zod';
import { CaepCommonMembers } from './SetPayload.js';
import { CaepEventType, RiscEventType, SsfEventType } from './eventTypes.js';

/**
 * Event members per type (CAEP 1.0 §3, SSF 1.0 §8.1.4/§8.1.5, RISC 1.0). Extension members (URIs)
 * are allowed by SSF and kept.
 */
export const SessionRevokedEvent = z.looseObject({ ...CaepCommonMembers });
export const TokenClaimsChangeEvent = z.looseObject({ ...CaepCommonMembers, claims: z.record(z.string(), z.unknown()) });
export const CredentialChangeEvent = z.looseObject({
  ...CaepCommonMembers,
  credential_type: z.string().min(1),
  change_type: z.enum(['create', 'revoke', 'update', 'delete']),
  friendly_name: z.string().optional(),
  x509_issuer: z.string().optional(),
  x509_serial: z.string().optional(),
  fido2_aaguid: z.string().optional(),
});
export const AssuranceLevelChangeEvent = z.looseObject({
  ...CaepCommonMembers,
  namespace: z.string().min(1),
  current_level: z.string().min(1),
  previous_level: z.string().optional(),
  change_direction: z.enum(['increase', 'decrease']).optional(),
});
export const DeviceComplianceChangeEvent = z.looseObject({ ...CaepCommonMembers, current_status: z.enum(['compliant', 'not-compliant']), previous_status: z.enum(['compliant', 'not-compliant']) });
export const SessionEstablishedEvent = z.looseObject({ ...CaepCommonMembers, fp_ua: z.string().optional(), acr: z.string().optional(), amr: z.array(z.string()).optional(), ext_id: z.string().optional() });
export const RiskLevelChangeEvent = z.looseObject({ ...CaepCommonMembers, current_level: z.string().min(1), previous_level: z.string().optional(), principal: z.string().optional(), risk_reason: z.string().optional() });
export const VerificationEvent = z.looseObject({ state: z.string().max(4096).optional() });
export const StreamUpdatedEvent = z.looseObject({ status: z.enum(['enabled', 'paused', 'disabled']), reason: z.string().optional() });
export const RiscAccountEvent = z.looseObject({ reason: z.string().optional() });

export const eventSchemas: Readonly<Record<string, z.ZodType>> = {
  [CaepEventType.sessionRevoked]: SessionRevokedEvent,
  [CaepEventType.tokenClaimsChange]: TokenClaimsChangeEvent,
  [CaepEventType.credentialChange]: CredentialChangeEvent,
  [CaepEventType.assuranceLevelChange]: AssuranceLevelChangeEvent,
  [CaepEventType.deviceComplianceChange]: DeviceComplianceChangeEvent,
  [CaepEventType.sessionEstablished]: SessionEstablishedEvent,
  [CaepEventType.sessionPresented]: SessionEstablishedEvent,
  [CaepEventType.riskLevelChange]: RiskLevelChangeEvent,
  [SsfEventType.verification]: VerificationEvent,
  [SsfEventType.streamUpdated]: StreamUpdatedEvent,
  [RiscEventType.accountDisabled]: RiscAccountEvent,
  [RiscEventType.accountEnabled]: RiscAccountEvent,
  [RiscEventType.accountPurged]: RiscAccountEvent,
};
