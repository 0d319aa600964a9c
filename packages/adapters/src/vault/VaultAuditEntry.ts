import { z } from 'zod';

/**
 * The parts of a HashiCorp Vault audit-device entry the adapter reads (file, socket and syslog devices
 * write the same JSON). Unknown members are kept and ignored. HMAC'd values (`hmac-sha256:<hex>`) are
 * opaque strings here: they are compared with each other, never reversed.
 */
const str = z.string().max(4096);

export const VaultAuth = z.looseObject({
  client_token: str.optional(),
  accessor: str.optional(),
  display_name: str.optional(),
  policies: z.array(str).nullable().optional(),
  token_policies: z.array(str).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  entity_id: str.optional(),
  token_type: str.optional(),
  /** Seconds (Vault 1.10+). */
  token_ttl: z.number().optional(),
  token_issue_time: str.optional(),
});
export type VaultAuth = z.infer<typeof VaultAuth>;

export const VaultRequest = z.looseObject({
  id: z.string().min(1).max(256),
  operation: str.optional(),
  path: z.string().max(4096),
  client_token: str.optional(),
  client_token_accessor: str.optional(),
  namespace: z.looseObject({ id: str.optional(), path: str.optional() }).nullable().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  remote_address: str.optional(),
  mount_type: str.optional(),
});
export type VaultRequest = z.infer<typeof VaultRequest>;

export const VaultResponse = z.looseObject({
  auth: VaultAuth.nullable().optional(),
  secret: z.looseObject({ lease_id: str.optional(), lease_duration: z.number().optional() }).nullable().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  mount_type: str.optional(),
});
export type VaultResponse = z.infer<typeof VaultResponse>;

export const VaultAuditEntry = z.looseObject({
  time: z.string(),
  type: z.string(),
  auth: VaultAuth.nullable().optional(),
  request: VaultRequest,
  response: VaultResponse.nullable().optional(),
  error: z.string().max(65_536).nullable().optional(),
});
export type VaultAuditEntry = z.infer<typeof VaultAuditEntry>;
