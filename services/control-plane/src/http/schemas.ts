import { IdentityId } from '@livescope/contracts';
import { z } from 'zod';

/**
 * What every feature's request and response schemas share: the registry of named components of the
 * OpenAPI document, the error body, and a few common fields. The route tables validate requests
 * with the features' schemas and the document is generated from them, so the two cannot drift apart.
 */

/** Schemas that appear in the OpenAPI document as named components (`#/components/schemas/<name>`). */
export const componentNames = new Map<z.ZodType, string>();

/** Names a schema as a component of the OpenAPI document. */
export function component<T extends z.ZodType>(name: string, schema: T): T {
  componentNames.set(schema, name);
  return schema;
}

/**
 * Where each named component stands in the document. docs/openapi.json is committed and read in
 * review, so its order must not depend on which feature module happened to load first: the
 * components of the first published document keep their places, newer ones follow by name.
 */
const FIRST_PUBLISHED_ORDER = [
  'Problem',
  'OrderAccepted',
  'LiftAccepted',
  'ActiveOrder',
  'OrdersList',
  'Progress',
  'OrderStatus',
  'ApprovalAccepted',
  'ApprovalRevoked',
  'ScopeView',
  'PastScopeView',
  'HistoryItem',
  'History',
  'Explanation',
  'Alert',
  'AlertsList',
  'AlertAck',
  'WhoAmI',
  'IdentitySummary',
  'IdentitiesPage',
  'FleetSummary',
  'ChangeItem',
  'ChangesList',
  'Enforcer',
  'EnforcersList',
  'Health',
  'Readiness',
];

/** The named components in document order (see FIRST_PUBLISHED_ORDER). */
export function componentsInDocumentOrder(): [z.ZodType, string][] {
  const rank = (name: string): number => {
    const i = FIRST_PUBLISHED_ORDER.indexOf(name);
    return i < 0 ? FIRST_PUBLISHED_ORDER.length : i;
  };
  return [...componentNames].sort(([, a], [, b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

// --- common --------------------------------------------------------------------------------------
export const ErrorBody = component(
  'Problem',
  z
    .object({
      type: z.string().describe('Problem type URI, one per code: `urn:livescope:problem:<code in kebab case>` (e.g. `urn:livescope:problem:invalid-request`).'),
      title: z.string().describe('Short summary of the problem type (the same for every occurrence).'),
      status: z.number().int().describe('The HTTP status code.'),
      detail: z.string().describe("What went wrong this time. A 4xx describes the caller's request; a 5xx never quotes a dependency's error (it is logged with the correlation id)."),
      instance: z.string().describe('This occurrence: `urn:uuid:<correlationId>`.'),
      code: z.string().describe('Extension: the stable error code clients switch on: INVALID_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, IDEMPOTENCY_KEY_REUSED, RATE_LIMITED, UNAVAILABLE, POLICY_COMPILER_UNAVAILABLE, INTERNAL.'),
      paths: z.array(z.string()).optional().describe('Extension: failing field paths of an invalid request, e.g. `target.identityId`.'),
      component: z.enum(['kafka', 'postgres', 'registry', 'policy-compiler']).optional().describe('Extension: the dependency that failed (5xx).'),
      correlationId: z.string().describe('Extension: id of this request in the server log (also the `x-request-id` header of every answer).'),
    })
    .describe('RFC 9457 problem details, served as `application/problem+json`.'),
);

/** Why an order or its lift was made, as recorded in the audit log. */
export const Reason = z.string().min(1).max(1024).describe('Why: recorded with the order in the audit log.');
/** A short name: an escalation, a secret path, an approval id. */
export const Name = z.string().min(1).max(256);
export const TtlSeconds = z.number().int().min(1).describe('Time to live in seconds from now (at most the configured maximum TTL).');

export const IdentityParams = z.object({ identityId: IdentityId.describe('Identity id.') });
