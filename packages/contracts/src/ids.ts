import { z } from 'zod';

/**
 * Branded identifiers: a session id can never be passed where an identity id belongs.
 * Identifiers are opaque printable strings; `/`, `:` and `.` are allowed so that ids from
 * other systems (SPIFFE ids, ARNs, Kubernetes service accounts) can be used as they are.
 */
/** What every identifier matches (also used by the hand-written decoder of hot events, fastEvents.ts). */
export const idPattern = /^[\x21-\x7e]{1,256}$/;
const idString = z.string().regex(idPattern, 'must be 1-256 printable ASCII characters without spaces');

export const IdentityId = idString.brand<'IdentityId'>();
export type IdentityId = z.infer<typeof IdentityId>;
export const SessionId = idString.brand<'SessionId'>();
export type SessionId = z.infer<typeof SessionId>;
export const EventId = idString.brand<'EventId'>();
export type EventId = z.infer<typeof EventId>;
export const GrantId = idString.brand<'GrantId'>();
export type GrantId = z.infer<typeof GrantId>;
export const OrderId = idString.brand<'OrderId'>();
export type OrderId = z.infer<typeof OrderId>;
export const LeaseId = idString.brand<'LeaseId'>();
export type LeaseId = z.infer<typeof LeaseId>;
export const TokenId = idString.brand<'TokenId'>();
export type TokenId = z.infer<typeof TokenId>;
export const EnforcerId = idString.brand<'EnforcerId'>();
export type EnforcerId = z.infer<typeof EnforcerId>;

/** Casts for code that already validated its input (decoders, tests). */
export const asIdentityId = (s: string): IdentityId => s as IdentityId;
export const asSessionId = (s: string): SessionId => s as SessionId;
export const asEventId = (s: string): EventId => s as EventId;
export const asGrantId = (s: string): GrantId => s as GrantId;
export const asOrderId = (s: string): OrderId => s as OrderId;
export const asLeaseId = (s: string): LeaseId => s as LeaseId;
export const asTokenId = (s: string): TokenId => s as TokenId;
export const asEnforcerId = (s: string): EnforcerId => s as EnforcerId;

/** An instant as an RFC 3339 timestamp with offset, e.g. `2026-11-28T12:00:00Z`. */
export const Instant = z.iso.datetime({ offset: true });
export type Instant = z.infer<typeof Instant>;
