import { generateKeyPairSync } from 'node:crypto';
import { TEST_CLI_CLIENT_ID, TestIdentityProvider } from '@livescope/testkit';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';

/**
 * Single sign-on against a real OpenID provider (oidc-provider, started here on 127.0.0.1): the
 * control plane finds the provider's keys through its discovery document, verifies the access
 * tokens it issues, maps their `groups` to roles, and refuses with 401 and a Bearer challenge what
 * it must: another audience, an expired token, `alg: none`, an unknown key id, another issuer.
 */
const AUDIENCE = 'urn:livescope:api';
const USERS = [
  { username: 'olivia', password: 'oncall-pass', groups: ['sec-oncall', 'everyone'], claims: { kind: 'human' } },
  { username: 'eve', password: 'eve-pass', groups: ['everyone'] },
];

let idp: TestIdentityProvider;
let other: TestIdentityProvider;
let h: Harness;

beforeAll(async () => {
  idp = await new TestIdentityProvider({ users: USERS, audience: AUDIENCE }).start();
  other = await new TestIdentityProvider({ users: USERS, audience: AUDIENCE }).start();
  h = await new Harness({
    env: {
      LIVESCOPE_API_JWT_PUBLIC_KEYS: '',
      LIVESCOPE_API_JWT_ISSUER: idp.issuer,
      LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
      LIVESCOPE_API_OIDC_ISSUER: idp.issuer,
      LIVESCOPE_API_OIDC_CLI_CLIENT_ID: TEST_CLI_CLIENT_ID,
      LIVESCOPE_API_OIDC_RESOURCE: AUDIENCE,
      LIVESCOPE_API_OIDC_SCOPES: 'openid api',
      LIVESCOPE_API_ROLES_CLAIM: 'groups',
      LIVESCOPE_API_ROLE_MAPPING: JSON.stringify({ 'sec-oncall': ['responder', 'soc'], 'sec-leads': 'approver' }),
    },
  }).open();
}, 180_000);

afterAll(async () => {
  await h?.close();
  await idp?.close();
  await other?.close();
});

/** An access token of `username` from `provider`, obtained as the CLI does: the device grant, the user signing in on the provider's pages. */
async function deviceToken(provider: TestIdentityProvider, username: string, password: string): Promise<string> {
  const config = await oidc.discovery(new URL(provider.issuer), TEST_CLI_CLIENT_ID, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid api', resource: AUDIENCE });
  await provider.completeDeviceSignIn(device.verification_uri_complete!, username, password);
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
  return tokens.access_token;
}

const me = async (token: string): Promise<{ status: number; json: unknown; challenge: string | null }> => {
  const r = await fetch(`${h.cp.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, json: await r.json(), challenge: r.headers.get('www-authenticate') };
};

describe('single sign-on through an OpenID provider', () => {
  it('tells clients how to sign in', async () => {
    const r = await fetch(`${h.cp.url}/auth/oidc`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ issuer: idp.issuer, consoleClientId: null, cliClientId: TEST_CLI_CLIENT_ID, scopes: 'openid api', resource: AUDIENCE });
  });

  it('accepts the access token the provider issued, with roles mapped from its groups', async () => {
    const token = await deviceToken(idp, 'olivia', 'oncall-pass');
    const r = await me(token);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ sub: 'olivia', roles: expect.arrayContaining(['responder', 'soc']) as unknown });
    expect((r.json as { roles: string[] }).roles).toHaveLength(2);
    // A member of no mapped group is authenticated but holds no role.
    const eve = await me(await deviceToken(idp, 'eve', 'eve-pass'));
    expect(eve.status).toBe(403);
  });

  it('refuses a token for another audience, an expired one, alg none, an unknown key id and another issuer with 401 invalid_token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: idp.issuer, sub: 'olivia', aud: AUDIENCE, groups: ['sec-oncall'], iat: now, exp: now + 600 };
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const refused: Record<string, string> = {
      'another audience': await idp.signWithProviderKey({ ...claims, aud: 'urn:someone-else' }),
      expired: await idp.signWithProviderKey({ ...claims, iat: now - 7200, exp: now - 3600 }),
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
      'unknown kid': await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'not-a-key-of-the-provider' }).sign(stranger),
      'another issuer': await deviceToken(other, 'olivia', 'oncall-pass'),
    };
    // The same claims signed by the provider are accepted: each refusal is for the one thing changed.
    expect((await me(await idp.signWithProviderKey(claims))).status).toBe(200);
    for (const [what, token] of Object.entries(refused)) {
      const r = await me(token);
      expect(r.status, what).toBe(401);
      expect(r.json, what).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      expect(r.challenge, what).toMatch(/^Bearer realm="livescope", error="invalid_token"/);
    }
  });
});
