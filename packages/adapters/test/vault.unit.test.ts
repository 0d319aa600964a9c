import { describe, expect, it } from 'vitest';
import { mapText } from '../src/common/mapText.js';
import { vaultAdapter } from '../src/vault/vaultAdapter.js';
import { ev, fixture, mapFixture, outcomes, RECEIVED_AT } from './support.js';

const V = 'livescope-adapter/vault';
const e = (id: string, type: string, subject: string, time: string, data: Record<string, unknown>) => ev(V, id, type, subject, time, data);

const LAB_ADMINS = 'vault:token/token-lab-admins';
const LAB_ADMINS_ACCESSOR = 'hmac-sha256:18e2ca53bac3d2821fe22b5ad63969fb79ff13bc07525f320ceafefefc93f907';
const APPROLE_ACCESSOR = 'hmac-sha256:019e7479fb6641f0ae74327b5178bc54e2eb8a2fb11de637aa254ff3ddb2230e';
const ROOT_ACCESSOR = 'hmac-sha256:a01c4d69aa0bc6ea78d41ab81f0780cccbb2594e820c5823214327fa1b8d1802';
const unattributable = 'vault denied read sys/mounts (permission denied) to a caller that cannot be attributed to an identity: Vault did not resolve the token (no display_name: unknown or expired token)';

describe('vault audit: vault-guides-lab-audit-subset.jsonl (20 lines, 10 request/response pairs)', () => {
  it('maps every pair to the expected events, skips people, dead-letters unattributable denials', () => {
    expect(mapFixture(vaultAdapter(), 'vault-audit/vault-guides-lab-audit-subset.jsonl')).toEqual([
      // sys/auth/approle enabled by a token-auth token: the token is an identity, first seen here.
      {
        events: [
          e('vault:f5b4a75b-2565-a186-161b-ce4cfccf3857/identity-4f1f02df756943b9', 'identity.created', LAB_ADMINS, '2020-04-30T14:27:11.351Z', {
            kind: 'service-account',
            name: 'token-lab-admins',
            namespace: 'root',
            owner: 'unassigned',
            labels: { source: 'vault', 'vault.auth': 'token', 'vault.policies': 'admins,default' },
          }),
          e('vault:f5b4a75b-2565-a186-161b-ce4cfccf3857/session', 'session.started', LAB_ADMINS, '2020-04-30T14:27:11.351Z', { sessionId: LAB_ADMINS_ACCESSOR, system: 'vault' }),
          e('vault:f5b4a75b-2565-a186-161b-ce4cfccf3857/activity', 'telemetry.activity', LAB_ADMINS, '2020-04-30T14:27:11.351Z', { action: 'vault:update', resource: 'sys/auth/approle' }),
        ],
      },
      // AppRole login: the role is the identity, the new token (by its accessor) the session.
      {
        events: [
          e('vault:86093ffd-00ec-4910-01de-0e24bb603551/identity-8a74b513e1f76b29', 'identity.created', 'vault:approle/my-role', '2020-04-30T14:27:11.839Z', {
            kind: 'workload',
            name: 'my-role',
            namespace: 'root',
            owner: 'unassigned',
            labels: { source: 'vault', 'vault.auth': 'approle', 'vault.entity_id': 'c116f480-fef9-1013-791e-76dbfcbb031a' },
          }),
          e('vault:86093ffd-00ec-4910-01de-0e24bb603551/session', 'session.started', 'vault:approle/my-role', '2020-04-30T14:27:11.839Z', { sessionId: APPROLE_ACCESSOR, system: 'vault' }),
        ],
      },
      { skipped: { code: 'human', field: 'response.auth.display_name', message: 'response.auth.display_name userpass-lab-user-1 (auth method userpass) is a person: a token issued at auth/userpass/login/lab-user-1; livescope tracks non-human identities' } },
      {
        events: [
          e('vault:5be54ca8-12ff-19a2-992e-510f0640bc11/access', 'secret.accessed', LAB_ADMINS, '2020-04-30T14:27:57.961Z', { secretPath: 'kv-v2/data/lab/lab-credential-1', operation: 'write', system: 'vault', sessionId: LAB_ADMINS_ACCESSOR }),
        ],
      },
      {
        events: [e('vault:9df70d99-f1bf-4731-1122-0edced409e02/access', 'secret.accessed', LAB_ADMINS, '2020-04-30T14:28:01.616Z', { secretPath: 'pki_int/issue/example-dot-com', operation: 'write', system: 'vault', sessionId: LAB_ADMINS_ACCESSOR })],
      },
      {
        events: [e('vault:25290da1-e17d-d483-b10e-0dead8952aaf/access', 'secret.accessed', LAB_ADMINS, '2020-04-30T14:28:08.664Z', { secretPath: 'totp/code/my-key', operation: 'read', system: 'vault', sessionId: LAB_ADMINS_ACCESSOR })],
      },
      { skipped: { code: 'human', field: 'auth.display_name', message: 'auth.display_name userpass-lab-user-7 (auth method userpass) is a person: update kv-v2/data/lab/user7-my-secret-3; livescope tracks non-human identities' } },
      {
        events: [
          e('vault:8dee3c46-167e-505c-add7-adc03f6f3314/identity-e02c2908035482a0', 'identity.created', 'vault:token/root', '2020-04-30T15:05:26.869Z', {
            kind: 'service-account',
            name: 'root',
            namespace: 'root',
            owner: 'unassigned',
            labels: { source: 'vault', 'vault.auth': 'token', 'vault.policies': 'root' },
          }),
          e('vault:8dee3c46-167e-505c-add7-adc03f6f3314/session', 'session.started', 'vault:token/root', '2020-04-30T15:05:26.869Z', { sessionId: ROOT_ACCESSOR, system: 'vault' }),
          e('vault:8dee3c46-167e-505c-add7-adc03f6f3314/activity', 'telemetry.activity', 'vault:token/root', '2020-04-30T15:05:26.869Z', { action: 'vault:read', resource: 'auth/token/lookup-self' }),
        ],
      },
      { deadLetter: { reason: 'unsupported', message: unattributable } },
      { deadLetter: { reason: 'unsupported', message: unattributable } },
    ]);
  });

  it('produces the same event ids when the file is read again (replays are duplicates the pipeline drops)', () => {
    const ids = (): string[] => mapFixture(vaultAdapter(), 'vault-audit/vault-guides-lab-audit-subset.jsonl').flatMap((o) => ('events' in o ? o.events.map((x) => x.id) : []));
    expect(ids()).toEqual(ids());
    expect(new Set(ids()).size).toBe(ids().length);
  });

  it('attributes a denial by a token that logged in earlier in the stream, through its HMAC', () => {
    const lines = fixture('vault-audit/vault-guides-lab-audit-subset.jsonl').split('\n');
    // The AppRole login, then the first sys/mounts denial with the client token of that login.
    const denied = lines[17]!.replaceAll('hmac-sha256:f5b41c50bd5e4ef346f74d74796758c7f0ee37fe5aed839247a7071e0a49e580', 'hmac-sha256:36db60a1759c7fc24c8bf5f779d863ba1ab8e8a469f6e0fa46bd2afd1f479d9e');
    const out = outcomes(mapText(vaultAdapter(), [lines[3], denied].join('\n'), { receivedAt: RECEIVED_AT }));
    expect(out[1]).toEqual({
      events: [
        e('vault:0b7cee96-5ac0-29bd-5397-0e715f2347a3/denied', 'enforcement.decisions', 'vault:approle/my-role', '2020-04-30T19:12:55.840Z', {
          enforcerId: 'vault',
          windowStart: '2020-04-30T19:12:55.840Z',
          windowEnd: '2020-04-30T19:12:55.840Z',
          decisions: [{ action: 'vault:read', resource: 'sys/mounts', sessionId: APPROLE_ACCESSOR, allowed: 0, denied: 1, reason: 'permission denied' }],
        }),
      ],
    });
  });
});

describe('vault audit: vault-docs-pr14865-lifecycle.jsonl (8 entries)', () => {
  const CHILD = 'vault:token/token';
  it('maps the child token of a person as a token identity, skips the person, maps response-only PKI entries', () => {
    expect(mapFixture(vaultAdapter(), 'vault-audit/vault-docs-pr14865-lifecycle.jsonl')).toEqual([
      { skipped: { code: 'human', field: 'auth.display_name', message: 'auth.display_name oidc-user@email.com (auth method oidc) is a person: update sys/policies/acl/boundary; livescope tracks non-human identities' } },
      {
        events: [
          e('vault:54a36184-b0e8-ab29-c685-0d4b10eface8/identity-6c70012fd299eee5', 'identity.created', CHILD, '2022-03-07T19:14:54.644Z', {
            kind: 'service-account',
            name: 'token',
            namespace: 'root',
            owner: 'unassigned',
            labels: { source: 'vault', 'vault.auth': 'token', 'vault.entity_id': 'eaaa1d84-ddb8-046e-af99-2c7adf3c7b64', 'vault.policies': 'admin,default' },
          }),
          // token_ttl 2764800 s from the response time (the new token has no token_issue_time).
          e('vault:54a36184-b0e8-ab29-c685-0d4b10eface8/session', 'session.started', CHILD, '2022-03-07T19:14:54.644Z', {
            sessionId: 'hmac-sha256:e79a6f5e9b34505bceb11db435dec4ad244b32e2884018e5516a49d93725f9e0',
            system: 'vault',
            expiresAt: '2022-04-08T19:14:54.644Z',
          }),
        ],
      },
      // The person's denied revoke: a person is not an identity, so no out-of-scope evidence either.
      { skipped: { code: 'human', field: 'auth.display_name', message: 'auth.display_name oidc-user@email.com (auth method oidc) is a person: update auth/token/revoke; livescope tracks non-human identities' } },
      // A response without its request: PKI issue by a token issued 2021-09-07T21:48:59Z with a 300 h TTL.
      {
        events: [
          e('vault:4357466a-4575-9da5-58b3-a079dcfd15e3/session', 'session.started', CHILD, '2021-09-14T16:04:48.589Z', {
            sessionId: 'hmac-sha256:d84825d897544afc5354a8d46b8d76cd0d923abbaeab879737576108b1b74c64',
            system: 'vault',
            expiresAt: '2021-09-20T09:48:59.000Z',
          }),
          e('vault:4357466a-4575-9da5-58b3-a079dcfd15e3/access', 'secret.accessed', CHILD, '2021-09-14T16:04:48.589Z', {
            secretPath: 'pki/issue/example_pki',
            operation: 'write',
            system: 'vault',
            sessionId: 'hmac-sha256:d84825d897544afc5354a8d46b8d76cd0d923abbaeab879737576108b1b74c64',
          }),
        ],
      },
      {
        events: [
          e('vault:74d634ac-d494-71a2-14ba-a6853b7b91db/access', 'secret.accessed', CHILD, '2021-09-14T16:08:43.359Z', {
            secretPath: 'pki/revoke',
            operation: 'write',
            system: 'vault',
            sessionId: 'hmac-sha256:d84825d897544afc5354a8d46b8d76cd0d923abbaeab879737576108b1b74c64',
          }),
        ],
      },
    ]);
  });
});

describe('vault audit: vault-guides-governance-approle-write-example.json (one pretty-printed response)', () => {
  it('maps the AppRole write to secret/app1 with an implicit session', () => {
    const accessor = 'hmac-sha256:49bdb7bf983f1fc72d3443c58147db1e1ada2b715894e6384a4c0208925ee99c';
    expect(mapFixture(vaultAdapter(), 'vault-audit/vault-guides-governance-approle-write-example.json')).toEqual([
      {
        events: [
          e('vault:da41f356-f0dd-ac3a-19c3-3f3c210c3f23/identity-7dad8b1623b2593a', 'identity.created', 'vault:approle/app1role', '2018-08-28T19:10:16.292Z', {
            kind: 'workload',
            name: 'app1role',
            namespace: 'root',
            owner: 'unassigned',
            labels: { source: 'vault', 'vault.auth': 'approle', 'vault.entity_id': 'aa709fab-816f-4ec6-b6d0-ace9766b347d' },
          }),
          e('vault:da41f356-f0dd-ac3a-19c3-3f3c210c3f23/session', 'session.started', 'vault:approle/app1role', '2018-08-28T19:10:16.292Z', { sessionId: accessor, system: 'vault' }),
          e('vault:da41f356-f0dd-ac3a-19c3-3f3c210c3f23/access', 'secret.accessed', 'vault:approle/app1role', '2018-08-28T19:10:16.292Z', { secretPath: 'secret/app1', operation: 'write', system: 'vault', sessionId: accessor }),
        ],
      },
    ]);
  });
});
