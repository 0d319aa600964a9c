import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { k8sAdapter } from '../src/k8s/k8sAdapter.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const K = 'livescope-adapter/k8s';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(K, id, type, subject, time, data);
const person = (what: string, user: string) => ({ skipped: { code: 'human', field: 'user.username', message: `${what}: user.username ${user} is not a service account, system component or listed machine user: a person (list machine users with --machine-users)` } });

describe('kubernetes audit: every real sample', () => {
  const cases: Record<string, unknown[]> = {
    'falco-anonymous_creates_namespace_foo.json': [{ skipped: { code: 'unattributed', field: 'user.username', message: 'create namespaces/foo: user.username system:anonymous: an unauthenticated request' } }],
    // Bindings whose only subject is a person (User minikube) grant nothing to a livescope identity.
    'falco-attach_cluster_admin_role.json': [{ skipped: { code: 'no-effect', field: 'subjects', message: 'binding k8s:clusterrolebinding/some-reader-binding has no service-account or machine-user subjects (groups and people are not identities)' } }],
    'falco-create_cluster_role_wildcard_verbs.json': [person('clusterroles create', 'minikube-user')],
    'falco-create_clusterrolebinding.json': [{ skipped: { code: 'no-effect', field: 'subjects', message: 'binding k8s:clusterrolebinding/some-reader-binding has no service-account or machine-user subjects (groups and people are not identities)' } }],
    'falco-create_kube_system_secret.json': [person('secret write', 'admin')],
    'falco-create_nginx_pod_privileged.json': [
      {
        events: [
          e('k8s:a362d22b-db3c-4590-9505-23782f12925f/identity-a4cd81a629054788', 'identity.created', 'k8s:kube-system/replicaset-controller', '2018-10-25T14:09:12.581Z', {
            kind: 'service-account',
            name: 'replicaset-controller',
            namespace: 'kube-system',
            owner: 'unassigned',
            labels: { source: 'kubernetes' },
          }),
          e('k8s:a362d22b-db3c-4590-9505-23782f12925f/activity', 'telemetry.activity', 'k8s:kube-system/replicaset-controller', '2018-10-25T14:09:12.581Z', { action: 'k8s:create', resource: 'namespaces/default/pods' }),
        ],
      },
    ],
    'falco-create_secret.json': [person('secret write', 'minikube-user')],
    // The tokens controller writing a legacy service-account token Secret.
    'falco-create_service_account_token_secret.json': [
      {
        events: [
          e('k8s:40ed7b5a-e92f-49ec-a359-86d36077d9c8/identity-2fc6c83d2bb611c8', 'identity.created', 'k8s:system/kube-controller-manager', '2020-04-21T17:32:29.942Z', {
            kind: 'service-account',
            name: 'kube-controller-manager',
            namespace: 'kube-system',
            owner: 'unassigned',
            labels: { source: 'kubernetes', 'k8s.role': 'control-plane' },
          }),
          e('k8s:40ed7b5a-e92f-49ec-a359-86d36077d9c8/access', 'secret.accessed', 'k8s:system/kube-controller-manager', '2020-04-21T17:32:29.942Z', { secretPath: 'namespaces/test2/secrets/default-token-7v4pb', operation: 'write', system: 'kubernetes' }),
        ],
      },
    ],
    'falco-create_serviceaccount.json': [
      { events: [e('k8s:db4a8c97-3bd2-4ee7-a0d9-b6e367a458e3/created', 'identity.created', 'k8s:default/myacct', '2018-10-26T13:19:22.135Z', { kind: 'service-account', name: 'myacct', namespace: 'default', owner: 'unassigned', labels: { source: 'kubernetes' } })] },
    ],
    'falco-delete_clusterrolebinding.json': [{ skipped: { code: 'incomplete', field: 'objectRef.name', message: 'binding k8s:clusterrolebinding/some-reader-binding deleted; its subjects were not seen in this input' } }],
    'falco-delete_secret.json': [person('secret delete', 'minikube-user')],
    'falco-delete_serviceaccount.json': [{ events: [e('k8s:9335a5a0-edc7-4ef0-9177-499c50f3d707/deleted', 'identity.deleted', 'k8s:default/myacct', '2018-10-26T13:19:30.044Z', { reason: 'service account deleted by minikube-user' })] }],
    'falco-exec_pod.json': [{ skipped: { code: 'human', field: 'user.username', message: 'user.username minikube-user ran exec in pod default/nginx-deployment-7998647bdf-phvq7, whose service account was not seen in this input (its creation was not logged)' } }],
    // Cut-down events: no auditID (the id is a content hash), no timestamp (the receive time is used).
    'panther-partial-eks-sa-token-create.json': [
      {
        events: [
          e('k8s:sha256-53c487ec546a5eb41ee26042af966fe8/identity-3649bb65287a625e', 'identity.created', 'k8s:production/persistence-sa', RECEIVED_AT, { kind: 'service-account', name: 'persistence-sa', namespace: 'production', owner: 'unassigned', labels: { source: 'kubernetes' } }),
          e('k8s:sha256-53c487ec546a5eb41ee26042af966fe8/session', 'session.started', 'k8s:production/persistence-sa', RECEIVED_AT, {
            sessionId: 'k8s:sha256-53c487ec546a5eb41ee26042af966fe8/token',
            system: 'kubernetes',
            expiresAt: '2026-01-01T01:00:00.000Z',
          }),
        ],
      },
    ],
    'panther-partial-eks-secret-get-403.json': [person('denied request', 'attacker@example.com')],
    'panther-partial-sa-secret-get-403.json': [
      {
        events: [
          e('k8s:sha256-f00b2e95b98e2fa4c7b37bca570d2c61/identity-d2a6407ce9826919', 'identity.created', 'k8s:default/app-sa', RECEIVED_AT, { kind: 'service-account', name: 'app-sa', namespace: 'default', owner: 'unassigned', labels: { source: 'kubernetes' } }),
          e('k8s:sha256-f00b2e95b98e2fa4c7b37bca570d2c61/denied', 'enforcement.decisions', 'k8s:default/app-sa', RECEIVED_AT, {
            enforcerId: 'kube-apiserver',
            windowStart: RECEIVED_AT,
            windowEnd: RECEIVED_AT,
            decisions: [{ action: 'k8s:get', resource: 'namespaces/production/secrets/admin-token', allowed: 0, denied: 1, reason: 'Forbidden' }],
          }),
        ],
      },
    ],
  };
  for (const [file, expected] of Object.entries(cases)) {
    it(file, () => expect(mapFixture(k8sAdapter(), `k8s-audit/${file}`)).toEqual(expected));
  }
});

describe('kubernetes audit: state across events', () => {
  const rbac = (name: string, subjects: unknown[], verb = 'create', kind = 'ClusterRoleBinding', role = 'some-reader') =>
    JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      auditID: `a-${name}-${verb}`,
      stage: 'ResponseComplete',
      verb,
      user: { username: 'minikube-user' },
      objectRef: { resource: kind === 'ClusterRoleBinding' ? 'clusterrolebindings' : 'rolebindings', name, apiGroup: 'rbac.authorization.k8s.io', ...(kind === 'RoleBinding' ? { namespace: 'payments' } : {}) },
      responseStatus: { code: verb === 'create' ? 201 : 200 },
      ...(verb === 'delete' ? {} : { responseObject: { kind, apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, ...(kind === 'RoleBinding' ? { namespace: 'payments' } : {}) }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects } }),
      stageTimestamp: '2026-02-01T10:00:00.000000Z',
    });

  it('grants the rules of a role seen earlier to the service accounts a binding names, and revokes on delete', () => {
    const role = fixture('k8s-audit/falco-create_cluster_role_wildcard_verbs.json');
    const sa = { kind: 'ServiceAccount', name: 'ci', namespace: 'build' };
    const text = [role, rbac('ci-reader', [sa, { kind: 'User', name: 'alice' }]), rbac('ci-reader', [], 'delete')].join('\n');
    const out = outcomes(mapText(k8sAdapter({ announce: 'never' }), text, { receivedAt: RECEIVED_AT }));
    const nonResource = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/openapi', '/openapi/*', '/swagger-2.0.0.pb-v1', '/swagger.json', '/swaggerapi', '/swaggerapi/*', '/version', '/version/'];
    expect(out[1]).toEqual({
      events: [
        e('k8s:a-ci-reader-create/grant-ba55a4780a39', 'entitlement.granted', 'k8s:build/ci', '2026-02-01T10:00:00.000Z', {
          grantId: 'k8s:clusterrolebinding/ci-reader',
          role: 'some-reader',
          permissions: [
            { action: 'k8s:*', resource: 'namespaces/*/pods', access: 'admin', system: 'kubernetes' },
            ...nonResource.map((url) => ({ action: 'k8s:get', resource: url, access: 'read', system: 'kubernetes' })),
          ],
        }),
      ],
    });
    expect(out[2]).toEqual({ events: [e('k8s:a-ci-reader-delete/revoke-ba55a4780a39', 'entitlement.revoked', 'k8s:build/ci', '2026-02-01T10:00:00.000Z', { grantId: 'k8s:clusterrolebinding/ci-reader' })] });
  });

  it('grants a role it has not seen as one conservative permission on the role', () => {
    const text = rbac('deployers', [{ kind: 'ServiceAccount', name: 'argo', namespace: 'cd' }], 'create', 'RoleBinding', 'edit');
    expect(outcomes(mapText(k8sAdapter({ announce: 'never' }), text, { receivedAt: RECEIVED_AT }))).toEqual([
      {
        events: [
          e('k8s:a-deployers-create/grant-faae6dca311b', 'entitlement.granted', 'k8s:cd/argo', '2026-02-01T10:00:00.000Z', {
            grantId: 'k8s:rolebinding/payments/deployers',
            role: 'edit',
            permissions: [{ action: 'k8s:role', resource: 'clusterroles/edit', access: 'write', system: 'kubernetes', resourceType: 'rbac-role', namespace: 'payments' }],
          }),
        ],
      },
    ]);
  });

  it('reports a person exec-ing into a pod as human use of the pod service account, once the pod is known', () => {
    const pod = fixture('k8s-audit/falco-create_nginx_pod_privileged.json');
    const exec = fixture('k8s-audit/falco-exec_pod.json').replace('nginx-deployment-7998647bdf-phvq7', 'nginx-deployment-5cdcc99dbf-rgw6z').replace('nginx-deployment-7998647bdf-phvq7', 'nginx-deployment-5cdcc99dbf-rgw6z');
    const out = outcomes(mapText(k8sAdapter({ announce: 'never' }), [pod, exec].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[1]).toEqual({
      events: [
        e('k8s:ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6/human-use', 'telemetry.human-use-detected', 'k8s:default/default', '2018-10-26T13:38:34.902Z', {
          evidence: "minikube-user ran exec in pod default/nginx-deployment-5cdcc99dbf-rgw6z, which holds this service account's token",
          sourceIp: '192.168.99.1',
        }),
      ],
    });
  });

  it('maps the items of a webhook EventList and skips the RequestReceived stage', () => {
    const item = JSON.parse(fixture('k8s-audit/panther-partial-sa-secret-get-403.json')) as Record<string, unknown>;
    const list = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [{ ...item, auditID: 'x1', stage: 'RequestReceived' }, { ...item, auditID: 'x1', stage: 'ResponseComplete' }] });
    const out = outcomes(mapText(k8sAdapter({ announce: 'never' }), list, { receivedAt: RECEIVED_AT }));
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({ skipped: { code: 'not-final', field: 'stage', message: 'stage RequestReceived: the outcome follows in a later stage' } });
    expect(out[1]).toMatchObject({ events: [{ id: 'k8s:x1/denied', type: 'enforcement.decisions', subject: 'k8s:default/app-sa' }] });
  });

  it('treats configured machine users as workloads', () => {
    const item = { kind: 'Event', auditID: 'u1', verb: 'patch', user: { username: 'ci-deployer' }, objectRef: { resource: 'deployments', namespace: 'shop', name: 'web', apiGroup: 'apps' }, responseStatus: { code: 200 }, stageTimestamp: '2026-02-01T10:00:00Z' };
    const out = outcomes(mapText(k8sAdapter({ announce: 'never', machineUsers: ['ci-deployer'] }), JSON.stringify(item), { receivedAt: RECEIVED_AT }));
    expect(out).toEqual([{ events: [e('k8s:u1/activity', 'telemetry.activity', 'k8s:user/ci-deployer', '2026-02-01T10:00:00.000Z', { action: 'k8s:patch', resource: 'namespaces/shop/deployments/web' })] }]);
  });

  it('dead-letters objects that are not audit events', () => {
    const out = outcomes(mapText(k8sAdapter(), ['{"kind":"Pod","metadata":{}}', '{"kind":"Event"}', 'garbage'].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out.map((o) => ('deadLetter' in o ? o.deadLetter.reason : 'other'))).toEqual(['unsupported', 'schema-invalid', 'not-json']);
  });
});
