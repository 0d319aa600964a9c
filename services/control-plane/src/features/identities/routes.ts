import type { Explanation } from '@livescope/scope-engine';
import type { z } from 'zod';
import { access } from '../../auth/roles.js';
import { route, type RouteDef } from '../../http/RouteDef.js';
import { IdentityParams } from '../../http/schemas.js';
import * as S from './schemas.js';

/** What the identities routes need. */
export interface IdentitiesApi {
  identities(q: z.infer<typeof S.IdentitiesQuery>): Promise<z.input<typeof S.IdentitiesPage>>;
  scope(identityId: string): Promise<S.ScopeView>;
  scopeAt(identityId: string, version: number): Promise<z.input<typeof S.PastScopeView>>;
  history(identityId: string, q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.History>>;
  explain(identityId: string, action: string, resource: string, session?: string): Promise<Explanation>;
}

/** Routes of the identities feature. */
export function identityRoutes(svc: IdentitiesApi): RouteDef[] {
  return [
    route({
      id: 'listIdentities',
      method: 'GET',
      path: '/v1/identities',
      tag: 'identities',
      summary: 'Identities in id order, a page at a time, filtered by id substring, kind, namespace and status (the workers\' state of record)',
      roles: access.read,
      query: S.IdentitiesQuery,
      success: { status: 200, description: 'A page of identities.', schema: S.IdentitiesPage },
      handler: ({ query }) => svc.identities(query),
    }),
    route({
      id: 'getScope',
      method: 'GET',
      path: '/v1/identities/:identityId/scope',
      tag: 'identities',
      summary: 'Current runtime scope: every permission with its validUntil, the scope version, sessions, approvals, leases',
      roles: access.read,
      params: IdentityParams,
      success: { status: 200, description: 'The scope of record.', schema: S.ScopeView },
      errors: [404],
      handler: ({ params }) => svc.scope(params.identityId),
    }),
    route({
      id: 'getScopeAtVersion',
      method: 'GET',
      path: '/v1/identities/:identityId/scope/versions/:version',
      tag: 'identities',
      summary: 'The scope at a past version (from the audit log)',
      roles: access.read,
      params: S.VersionParams,
      success: { status: 200, description: 'The scope as it was.', schema: S.PastScopeView },
      errors: [404],
      handler: ({ params }) => svc.scopeAt(params.identityId, params.version),
    }),
    route({
      id: 'getHistory',
      method: 'GET',
      path: '/v1/identities/:identityId/history',
      tag: 'identities',
      summary: 'History of scope changes, revocations and alerts with their causes (audit log), newest first',
      roles: access.read,
      params: IdentityParams,
      query: S.HistoryQuery,
      success: { status: 200, description: 'A page of history.', schema: S.History },
      handler: ({ params, query }) => svc.history(params.identityId, query),
    }),
    route({
      id: 'explain',
      method: 'GET',
      path: '/v1/identities/:identityId/explain',
      tag: 'identities',
      summary: 'Why an identity may or may not do (action, resource) now: grants, policies, context facts, orders, until when',
      roles: access.read,
      params: IdentityParams,
      query: S.ExplainQuery,
      success: { status: 200, description: 'The explanation.', schema: S.Explanation },
      errors: [404, 503],
      handler: ({ params, query }) => svc.explain(params.identityId, query.action, query.resource, query.session),
    }),
  ];
}
