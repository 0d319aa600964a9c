import type { PolicyFileText } from '@livescope/scope-engine';
import type { z } from 'zod';
import { access, type Principal } from '../../auth/roles.js';
import { abortOnClose, route, type RouteDef } from '../../http/RouteDef.js';
import * as S from './schemas.js';

/** What the policies routes need. */
export interface PoliciesApi {
  validate(files: readonly PolicyFileText[]): z.input<typeof S.ValidationResult>;
  test(req: z.infer<typeof S.TestRequest>): z.input<typeof S.TestResult>;
  current(): Promise<z.input<typeof S.PolicySetView>>;
  version(version: number): Promise<z.input<typeof S.PolicySetView>>;
  diff(req: z.infer<typeof S.DiffRequest>): Promise<z.input<typeof S.DiffResult>>;
  impact(req: z.infer<typeof S.ImpactRequest>): Promise<z.input<typeof S.ImpactResult>>;
  publish(actor: Principal, req: z.infer<typeof S.PublishRequest>): Promise<z.input<typeof S.Publication>>;
  rollback(actor: Principal, req: z.infer<typeof S.RollbackRequest>): Promise<z.input<typeof S.Publication>>;
  approve(actor: Principal, requestId: string): Promise<z.input<typeof S.Publication>>;
  reject(actor: Principal, requestId: string, reason: string | undefined): Promise<z.input<typeof S.Publication>>;
  requests(q: z.infer<typeof S.RequestsQuery>): Promise<z.input<typeof S.PublicationsList>>;
  publication(requestId: string): Promise<z.input<typeof S.Publication>>;
  history(q: z.infer<typeof S.HistoryQuery>): Promise<z.input<typeof S.PolicyHistory>>;
  status(version: number, waitMs: number | undefined, signal: AbortSignal): Promise<z.input<typeof S.ApplyStatus>>;
}

/**
 * Routes of the policies feature. Reading, validating, testing and computing impact are open to
 * every role that reads; publishing and rolling back widen scope (approver power); approving a held
 * publication is for a second admin.
 */
export function policyRoutes(svc: PoliciesApi): RouteDef[] {
  return [
    route({
      id: 'currentPolicies',
      method: 'GET',
      path: '/v1/policies',
      tag: 'policies',
      summary: 'The policy set in force: version, author, files, and the version each partition holds',
      roles: access.read,
      success: { status: 200, description: 'The set in force.', schema: S.PolicySetView },
      handler: () => svc.current(),
    }),
    route({
      id: 'validatePolicies',
      method: 'POST',
      path: '/v1/policies/validate',
      tag: 'policies',
      summary: 'Validate a policy set against the livescope Cedar schema (problems with file, line and column)',
      roles: access.read,
      body: S.FilesRequest,
      success: { status: 200, description: 'Whether it validates, and every problem.', schema: S.ValidationResult },
      handler: ({ body }) => Promise.resolve(svc.validate(body.files)),
    }),
    route({
      id: 'testPolicies',
      method: 'POST',
      path: '/v1/policies/test',
      tag: 'policies',
      summary: 'Run policy test files against a set with the workers’ evaluator',
      roles: access.read,
      body: S.TestRequest,
      success: { status: 200, description: 'Every case with its outcome.', schema: S.TestResult },
      handler: ({ body }) => Promise.resolve(svc.test(body)),
    }),
    route({
      id: 'diffPolicies',
      method: 'POST',
      path: '/v1/policies/diff',
      tag: 'policies',
      summary: 'Textual and semantic diff of two sets; with the (action, resource) pairs that change per kind of identity on the live fleet',
      roles: access.read,
      body: S.DiffRequest,
      success: { status: 200, description: 'The diff.', schema: S.DiffResult },
      errors: [404],
      handler: ({ body }) => svc.diff(body),
    }),
    route({
      id: 'policyImpact',
      method: 'POST',
      path: '/v1/policies/impact',
      tag: 'policies',
      summary: 'What-if: every identity whose scope a candidate set would change, computed from the workers’ state, without publishing',
      roles: access.read,
      body: S.ImpactRequest,
      success: { status: 200, description: 'Counts for the whole fleet, per namespace and kind, and the changed identities.', schema: S.ImpactResult },
      errors: [404, 503],
      handler: ({ body }) => svc.impact(body),
    }),
    route({
      id: 'publishPolicies',
      method: 'POST',
      path: '/v1/policies/publish',
      tag: 'policies',
      summary: 'Publish a policy set (widening: approver role); idempotent by content hash; held for a second admin when required',
      roles: access.widen,
      body: S.PublishRequest,
      success: { status: 202, description: 'Published (signed control event, durably written), unchanged, or pending approval.', schema: S.Publication },
      errors: [409, 503],
      handler: ({ principal, body }) => svc.publish(principal!, body),
    }),
    route({
      id: 'rollbackPolicies',
      method: 'POST',
      path: '/v1/policies/rollback',
      tag: 'policies',
      summary: 'Publish the files of an earlier version again, as a new version (approver role)',
      roles: access.widen,
      body: S.RollbackRequest,
      success: { status: 202, description: 'As for a publication.', schema: S.Publication },
      errors: [404, 409, 503],
      handler: ({ principal, body }) => svc.rollback(principal!, body),
    }),
    route({
      id: 'policyRequests',
      method: 'GET',
      path: '/v1/policies/requests',
      tag: 'policies',
      summary: 'Publication requests, newest first (filter by status)',
      roles: access.read,
      query: S.RequestsQuery,
      success: { status: 200, description: 'The requests.', schema: S.PublicationsList },
      handler: ({ query }) => svc.requests(query),
    }),
    route({
      id: 'policyRequest',
      method: 'GET',
      path: '/v1/policies/requests/:requestId',
      tag: 'policies',
      summary: 'One publication request',
      roles: access.read,
      params: S.RequestParams,
      success: { status: 200, description: 'The request.', schema: S.Publication },
      errors: [404],
      handler: ({ params }) => svc.publication(params.requestId),
    }),
    route({
      id: 'approvePolicies',
      method: 'POST',
      path: '/v1/policies/requests/:requestId/approve',
      tag: 'policies',
      summary: 'Approve a held publication (a second admin, a person, not the requester): it is published now',
      roles: [],
      params: S.RequestParams,
      body: S.DecisionRequest,
      success: { status: 202, description: 'Published.', schema: S.Publication },
      errors: [404, 409, 503],
      handler: ({ principal, params }) => svc.approve(principal!, params.requestId),
    }),
    route({
      id: 'rejectPolicies',
      method: 'POST',
      path: '/v1/policies/requests/:requestId/reject',
      tag: 'policies',
      summary: 'Reject a held publication (an admin, or the requester withdrawing it)',
      roles: access.widen,
      params: S.RequestParams,
      body: S.DecisionRequest,
      success: { status: 200, description: 'Rejected.', schema: S.Publication },
      errors: [404, 409],
      handler: ({ principal, params, body }) => svc.reject(principal!, params.requestId, body.reason),
    }),
    route({
      id: 'policyHistory',
      method: 'GET',
      path: '/v1/policies/history',
      tag: 'policies',
      summary: 'Versions the workers applied (newest first) with author, approver and rollback origin; pending publications',
      roles: access.read,
      query: S.HistoryQuery,
      success: { status: 200, description: 'The history.', schema: S.PolicyHistory },
      handler: ({ query }) => svc.history(query),
    }),
    route({
      id: 'policyVersion',
      method: 'GET',
      path: '/v1/policies/versions/:version',
      tag: 'policies',
      summary: 'The files of a published version',
      roles: access.read,
      params: S.VersionParams,
      success: { status: 200, description: 'The version.', schema: S.PolicySetView },
      errors: [404],
      handler: ({ params }) => svc.version(params.version),
    }),
    route({
      id: 'policyStatus',
      method: 'GET',
      path: '/v1/policies/versions/:version/status',
      tag: 'policies',
      summary: 'Which partitions applied a version (long-poll with waitMs until all did or one refused it)',
      roles: access.read,
      params: S.VersionParams,
      query: S.StatusQuery,
      success: { status: 200, description: 'Per partition: applied, refused or pending.', schema: S.ApplyStatus },
      errors: [404],
      handler: ({ params, query, reply }) => svc.status(params.version, query.waitMs, abortOnClose(reply)),
    }),
  ];
}
