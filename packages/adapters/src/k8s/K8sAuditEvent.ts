import { z } from 'zod';

/**
 * The parts of a Kubernetes `audit.k8s.io` Event (v1 and v1beta1) the adapter reads. Cut-down events
 * (no auditID, stage or timestamps) are accepted; unknown members are kept and ignored.
 */
const str = z.string().max(4096);

export const K8sUser = z.looseObject({
  username: str.optional(),
  uid: str.optional(),
  groups: z.array(str).nullable().optional(),
  extra: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const K8sObjectRef = z.looseObject({
  resource: str.optional(),
  subresource: str.optional(),
  namespace: str.optional(),
  name: str.optional(),
  apiGroup: str.optional(),
  apiVersion: str.optional(),
});
export type K8sObjectRef = z.infer<typeof K8sObjectRef>;

export const K8sAuditEvent = z.looseObject({
  kind: z.literal('Event').optional(),
  apiVersion: str.optional(),
  level: str.optional(),
  auditID: str.optional(),
  stage: str.optional(),
  requestURI: str.optional(),
  verb: z.string().min(1).max(64),
  user: K8sUser,
  impersonatedUser: K8sUser.nullable().optional(),
  sourceIPs: z.array(str).nullable().optional(),
  userAgent: str.optional(),
  objectRef: K8sObjectRef.nullable().optional(),
  responseStatus: z.looseObject({ code: z.number().int().optional(), message: str.optional(), reason: str.optional(), status: str.optional() }).nullable().optional(),
  requestObject: z.unknown().optional(),
  responseObject: z.unknown().optional(),
  requestReceivedTimestamp: str.optional(),
  stageTimestamp: str.optional(),
  timestamp: str.optional(),
  metadata: z.looseObject({ creationTimestamp: str.optional() }).nullable().optional(),
  annotations: z.record(z.string(), z.string()).nullable().optional(),
});
export type K8sAuditEvent = z.infer<typeof K8sAuditEvent>;

/** A webhook batch from the API server's audit webhook backend. */
export const K8sEventList = z.looseObject({ kind: z.literal('EventList'), items: z.array(z.unknown()).max(100_000) });

/** RBAC objects inside request/response objects. */
export const RbacSubject = z.looseObject({ kind: z.string(), name: z.string(), namespace: z.string().optional() });
export type RbacSubject = z.infer<typeof RbacSubject>;
export const RoleRef = z.looseObject({ kind: z.string(), name: z.string() });
export const RbacBinding = z.looseObject({
  kind: z.enum(['RoleBinding', 'ClusterRoleBinding']),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  subjects: z.array(RbacSubject).nullable().optional(),
  roleRef: RoleRef,
});
export type RbacBinding = z.infer<typeof RbacBinding>;
export const PolicyRule = z.looseObject({
  verbs: z.array(z.string()).max(64),
  apiGroups: z.array(z.string()).max(64).optional(),
  resources: z.array(z.string()).max(256).optional(),
  resourceNames: z.array(z.string()).max(256).optional(),
  nonResourceURLs: z.array(z.string()).max(256).optional(),
});
export type PolicyRule = z.infer<typeof PolicyRule>;
export const RbacRole = z.looseObject({ kind: z.enum(['Role', 'ClusterRole']), metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(), rules: z.array(PolicyRule).max(1024).nullable().optional() });
export const PodObject = z.looseObject({ kind: z.literal('Pod'), metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(), spec: z.looseObject({ serviceAccountName: z.string().optional() }).optional() });
export const TokenRequestObject = z.looseObject({
  spec: z.looseObject({ expirationSeconds: z.number().optional(), boundObjectRef: z.looseObject({ kind: z.string().optional(), name: z.string().optional(), uid: z.string().optional() }).nullable().optional() }).optional(),
  status: z.looseObject({ expirationTimestamp: z.string().optional() }).optional(),
});
