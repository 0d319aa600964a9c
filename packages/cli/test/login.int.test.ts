import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness } from '@livescope/control-plane/testing';
import { TEST_CLI_CLIENT_ID, TestIdentityProvider } from '@livescope/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/runCli.js';

/**
 * `livescope login` through a real OpenID provider (oidc-provider on 127.0.0.1): the device
 * authorization grant, the test playing the user on the provider's pages; the token stored 0600,
 * used by later commands for that API only, and deleted by `livescope logout`.
 */
const AUDIENCE = 'urn:livescope:api';
const USERS = [{ username: 'olivia', password: 'oncall-pass', groups: ['sec-oncall'], claims: { kind: 'human' } }];

let idp: TestIdentityProvider;
let h: Harness;
let configDir: string;

beforeAll(async () => {
  idp = await new TestIdentityProvider({ users: USERS, audience: AUDIENCE }).start();
  h = await new Harness({
    env: {
      LIVESCOPE_API_JWT_PUBLIC_KEYS: '',
      LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
      LIVESCOPE_API_JWT_ISSUER: idp.issuer,
      LIVESCOPE_API_OIDC_ISSUER: idp.issuer,
      LIVESCOPE_API_OIDC_CLI_CLIENT_ID: TEST_CLI_CLIENT_ID,
      LIVESCOPE_API_OIDC_RESOURCE: AUDIENCE,
      LIVESCOPE_API_OIDC_SCOPES: 'openid api',
      LIVESCOPE_API_ROLES_CLAIM: 'groups',
      LIVESCOPE_API_ROLE_MAPPING: JSON.stringify({ 'sec-oncall': ['responder', 'soc'] }),
    },
  }).open();
  configDir = mkdtempSync(join(tmpdir(), 'livescope-login-'));
}, 180_000);

afterAll(async () => {
  await h?.close();
  await idp?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

/** Runs the CLI in process with its own configuration directory; `onStderr` sees what it prints to the user as it prints it. */
async function cli(args: readonly string[], o: { api?: string; fetch?: typeof fetch; onStderr?: (text: string) => void } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    stdout: (t) => void out.push(t),
    stderr: (t) => {
      err.push(t);
      o.onStderr?.(t);
    },
    env: { LIVESCOPE_API_URL: o.api ?? h.cp.url, LIVESCOPE_CONFIG_DIR: configDir },
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('livescope login (device authorization grant)', () => {
  it('signs in through the provider, stores the token 0600, and later commands use it', async () => {
    let signIn: Promise<string> | undefined;
    const login = await cli(['--json', 'login'], {
      onStderr: (t) => {
        // The user: opens the printed URL (code included) on "another device" and signs in there.
        const m = /or open (\S+)/.exec(t);
        if (m && !signIn) signIn = idp.completeDeviceSignIn(m[1]!, 'olivia', 'oncall-pass');
      },
    });
    expect(login.stderr).toMatch(/To sign in, open http:\/\/127\.0\.0\.1:\d+\/device and enter the code [A-Z]{4}-[A-Z]{4}/);
    expect(login.code, login.stderr).toBe(0);
    expect(await signIn).toMatch(/Sign-in Success/);
    const file = join(configDir, 'token.json');
    expect(JSON.parse(login.stdout)).toMatchObject({ sub: 'olivia', roles: expect.arrayContaining(['responder', 'soc']) as unknown, file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { api: string; issuer: string; accessToken: string; expiresAt: number };
    expect(stored).toMatchObject({ api: h.cp.url, issuer: idp.issuer, sub: 'olivia' });
    expect(stored.expiresAt).toBeGreaterThan(Date.now());
    expect(idp.logins).toEqual([{ username: 'olivia', ok: true }]);

    // No --token: the stored one is used.
    const orders = await cli(['--json', 'orders']);
    expect(orders.code, orders.stderr).toBe(0);
    expect(JSON.parse(orders.stdout)).toMatchObject({ orders: [], nextCursor: null });
  });

  it('never sends the stored token to another API', async () => {
    const seen: (string | null)[] = [];
    const elsewhere: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return Promise.resolve(new Response(JSON.stringify({ type: 'urn:livescope:problem:unauthenticated', title: 'Authentication required', status: 401, detail: 'a bearer token is required', code: 'UNAUTHENTICATED' }), { status: 401, headers: { 'content-type': 'application/problem+json' } }));
    };
    const r = await cli(['orders'], { api: 'http://127.0.0.1:9/', fetch: elsewhere });
    expect(r.code).toBe(3);
    expect(seen).toEqual([null]);
  });

  it('refuses a token file others can read, and logout deletes it', async () => {
    const file = join(configDir, 'token.json');
    chmodSync(file, 0o644);
    const loose = await cli(['orders']);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/readable or writable by other users/);
    chmodSync(file, 0o600);

    const out = await cli(['logout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/signed out/);
    expect(() => statSync(file)).toThrow();
    const after = await cli(['orders']);
    expect(after.code).toBe(3);
    expect((await cli(['logout'])).stdout).toMatch(/not signed in/);
  });

  it('says so when the stored sign-in has expired', async () => {
    const file = join(configDir, 'token.json');
    writeFileSync(file, JSON.stringify({ api: h.cp.url, issuer: idp.issuer, accessToken: 'x.y.z', expiresAt: Date.now() - 1000, sub: 'olivia' }), { mode: 0o600 });
    const r = await cli(['orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expired .* run livescope login again/);
    expect((await cli(['logout'])).code).toBe(0);
  });
});
