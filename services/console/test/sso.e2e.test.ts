import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_CONSOLE_CLIENT_ID, TestIdentityProvider } from '@livescope/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, locateChromium } from './support/chromium.js';
import { ConsoleStack } from './support/ConsoleStack.js';

/**
 * Single sign-on of the console in a real browser (Debian's Chromium driven by playwright-core):
 * the authorization code grant with PKCE against a real OpenID provider (oidc-provider on
 * 127.0.0.1, PKCE required), a user signing in on the provider's page, the console back at its
 * callback with roles mapped from the user's groups.
 */
const chrome = locateChromium();
if (chrome.path === undefined) process.stderr.write(`\nconsole SSO e2e SKIPPED: ${chrome.reason}\n\n`);

const AUDIENCE = 'urn:livescope:api';
const idp = new TestIdentityProvider({ users: [{ username: 'olivia', password: 'oncall-pass', groups: ['sec-oncall', 'everyone'], claims: { kind: 'human' } }], audience: AUDIENCE });
let stack: ConsoleStack;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];

describe.skipIf(!chrome.path)('the console signs in through single sign-on, in a browser', () => {
  beforeAll(async () => {
    await idp.start();
    stack = new ConsoleStack({
      fleetSize: 5,
      sseMaxMs: 60_000,
      trafficPerSecond: 0,
      env: {
        LIVESCOPE_API_JWT_PUBLIC_KEYS: '',
        LIVESCOPE_API_JWT_ISSUER: idp.issuer,
        LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
        LIVESCOPE_API_OIDC_ISSUER: idp.issuer,
        LIVESCOPE_API_OIDC_CONSOLE_CLIENT_ID: TEST_CONSOLE_CLIENT_ID,
        LIVESCOPE_API_OIDC_RESOURCE: AUDIENCE,
        LIVESCOPE_API_OIDC_SCOPES: 'openid api',
        LIVESCOPE_API_ROLES_CLAIM: 'groups',
        LIVESCOPE_API_ROLE_MAPPING: JSON.stringify({ 'sec-oncall': ['responder', 'soc'] }),
      },
    });
    await stack.open();
    await idp.allowRedirect(`${stack.url}/console/callback`);
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'livescope-chromium-')), { executablePath: chrome.path!, headless: true, args: chromiumArgs });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  }, 420_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await stack?.close();
    await idp.close();
  }, 240_000);

  it("lets the console's page call the provider and nothing else", async () => {
    const res = await fetch(`${stack.url}/console/`);
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${idp.issuer};`);
  });

  it('sends the user to the provider with PKCE, and back signed in with the roles of their groups', async () => {
    await page.goto(`${stack.url}/console/`);
    await page.getByTestId('sso-sign-in').click();
    // On the provider's sign-in page now.
    await page.waitForURL((u) => u.origin === idp.issuer && u.pathname.startsWith('/interaction/'), { timeout: 30_000 });
    const authorize = requests.map((u) => new URL(u)).find((u) => u.origin === idp.issuer && u.pathname === '/auth');
    expect(authorize?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize?.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize?.searchParams.get('client_id')).toBe(TEST_CONSOLE_CLIENT_ID);
    expect(authorize?.searchParams.get('redirect_uri')).toBe(`${stack.url}/console/callback`);

    await page.locator('input[name=username]').fill('olivia');
    await page.locator('input[name=password]').fill('oncall-pass');
    await page.locator('#sign-in').click();
    await page.getByTestId('user').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('user').textContent()).toMatch(/olivia.*responder.*soc|olivia.*soc.*responder/);
    // The address bar lost the code and state; the token is in this tab's session storage only.
    expect(new URL(page.url()).pathname).toBe('/console/');
    expect(new URL(page.url()).search).toBe('');
    const token = await page.evaluate(() => sessionStorage.getItem('livescope.console.token'));
    const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()) as { iss: string; aud: string; groups: string[] };
    expect(claims).toMatchObject({ iss: idp.issuer, aud: AUDIENCE, groups: ['sec-oncall', 'everyone'] });
    expect(idp.logins).toEqual([{ username: 'olivia', ok: true }]);
    // The fleet loads with it (the API accepted the provider's token).
    await page.getByTestId('fleet-page').waitFor();
  });

  it('is refused by the provider without PKCE', async () => {
    const res = await fetch(`${idp.issuer}/auth?${new URLSearchParams({ client_id: TEST_CONSOLE_CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: `${stack.url}/console/callback`, state: 'x' }).toString()}`, { redirect: 'manual' });
    const to = new URL(res.headers.get('location') ?? 'http://none/');
    expect(to.searchParams.get('error')).toBe('invalid_request');
    expect(to.searchParams.get('error_description')).toMatch(/PKCE/);
  });
});
