import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, SignJWT, type JWK } from 'jose';
import Provider, { errors as oidcErrors, type Adapter, type AdapterPayload, type ClientMetadata } from 'oidc-provider';

/** A person of the test identity provider: logs in with `password`, and tokens carry `groups`. */
export interface TestUser {
  readonly username: string;
  readonly password: string;
  readonly groups: readonly string[];
  /** Extra claims of the access token (e.g. `kind: 'human'`). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface TestIdentityProviderOptions {
  readonly users: readonly TestUser[];
  /** The resource indicator (RFC 8707) access tokens are issued for: their `aud`. */
  readonly audience: string;
  /** Access-token lifetime, seconds. Default 600. */
  readonly accessTokenTtlS?: number;
}

/** Client ids the provider knows from the start. */
export const TEST_CLI_CLIENT_ID = 'livescope-cli';
export const TEST_CONSOLE_CLIENT_ID = 'livescope-console';

/** Every model the provider stores, in memory, per instance (clients included, so tests can add them after start). */
class MemoryStore {
  readonly rows = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
  adapter(model: string): Adapter {
    const rows = this.rows;
    const key = (id: string): string => `${model}:${id}`;
    const live = (id: string): AdapterPayload | undefined => {
      const r = rows.get(key(id));
      if (!r) return undefined;
      if (r.expiresAt !== undefined && r.expiresAt <= Date.now()) {
        rows.delete(key(id));
        return undefined;
      }
      return r.payload;
    };
    const findBy = (field: 'userCode' | 'uid', value: string): AdapterPayload | undefined => {
      for (const [k, r] of rows) if (k.startsWith(`${model}:`) && r.payload[field] === value) return live(k.slice(model.length + 1));
      return undefined;
    };
    return {
      upsert: (id, payload, expiresIn) => {
        rows.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(live(id)),
      findByUserCode: (userCode) => Promise.resolve(findBy('userCode', userCode)),
      findByUid: (uid) => Promise.resolve(findBy('uid', uid)),
      consume: (id) => {
        const p = live(id);
        if (p) p.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy: (id) => {
        rows.delete(key(id));
        return Promise.resolve();
      },
      revokeByGrantId: (grantId) => {
        for (const [k, r] of rows) if (r.payload.grantId === grantId) rows.delete(k);
        return Promise.resolve();
      },
    };
  }
}

const html = (title: string, body: string): string =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(c);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * A real OpenID provider for tests (the `oidc-provider` library) on 127.0.0.1: discovery, JWKS,
 * the authorization code grant with PKCE required, the device authorization grant (RFC 8628), and
 * JWT access tokens for one resource (`audience`) carrying the user's `groups`. Two public clients
 * are registered: `livescope-cli` (device grant) and `livescope-console` (code + PKCE; its redirect
 * URIs are added with `allowRedirect` once the console's address is known). Users sign in on a
 * plain HTML form at `/interaction/<uid>` (user name and password, checked); consent is given
 * without a page (first-party clients).
 */
export class TestIdentityProvider {
  private server: Server | undefined;
  private provider: Provider | undefined;
  private readonly store = new MemoryStore();
  private readonly signingKey = signingJwk();
  /** Successful and refused sign-ins, in order (what a test can assert on). */
  readonly logins: { username: string; ok: boolean }[] = [];
  issuer = '';

  constructor(readonly options: TestIdentityProviderOptions) {}

  async start(): Promise<this> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = this.store;
    const users = new Map(this.options.users.map((u) => [u.username, u]));
    const audience = this.options.audience;
    const provider = new Provider(this.issuer, {
      adapter: (name: string) => store.adapter(name),
      clients: [],
      findAccount: (_ctx, sub) => {
        const u = users.get(sub);
        return u ? { accountId: sub, claims: () => ({ sub, groups: [...u.groups], preferred_username: u.username }) } : undefined;
      },
      claims: { openid: ['sub'], profile: ['preferred_username', 'groups'] },
      pkce: { required: () => true },
      features: {
        devInteractions: { enabled: false },
        deviceFlow: {
          enabled: true,
          // Plain pages of its own (the library's defaults load web fonts and log a notice each).
          userCodeInputSource: (ctx, form) => {
            ctx.body = html('Enter the code shown on your device', `${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
          },
          userCodeConfirmSource: (ctx, form, _client, _info, userCode) => {
            ctx.body = html('Confirm the device', `<p>Code <code>${escapeHtml(userCode)}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`);
          },
          successSource: (ctx) => {
            ctx.body = html('Sign-in Success', '<p id="device-signed-in">You may close this page.</p>');
          },
        },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== audience) throw new oidcErrors.InvalidTarget(`unknown resource ${indicator}`);
            return { scope: 'api', audience, accessTokenTTL: this.options.accessTokenTtlS ?? 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
          },
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const u = 'accountId' in token && typeof token.accountId === 'string' ? users.get(token.accountId) : undefined;
        return u ? { groups: [...u.groups], preferred_username: u.username, ...u.claims } : undefined;
      },
      jwks: { keys: [this.signingKey] },
      ttl: { DeviceCode: 600, Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: this.options.accessTokenTtlS ?? 600, IdToken: 600 },
      cookies: { keys: ['livescope-test-idp-cookie-key'] },
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.body = html('Error', `<pre id="error">${escapeHtml(JSON.stringify(out))}</pre>`);
      },
    });
    this.provider = provider;
    await this.registerClient({ client_id: TEST_CLI_CLIENT_ID, client_name: 'livescope CLI', token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256', application_type: 'native', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [] });
    await this.registerClient({ client_id: TEST_CONSOLE_CLIENT_ID, client_name: 'livescope console', token_endpoint_auth_method: 'none', id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [] });
    const callback = provider.callback();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path.startsWith('/interaction/')) {
        this.interaction(req, res, users).catch((e: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/html' }).end(html('Error', escapeHtml((e as Error).message)));
        });
        return;
      }
      void callback(req, res);
    });
    return this;
  }

  /** Registers (or replaces) a client, as the provider's adapter stores it. */
  async registerClient(metadata: ClientMetadata): Promise<void> {
    await this.store.adapter('Client').upsert(metadata.client_id, metadata, 0);
  }

  /** Lets the console client redirect to `uri` (its callback, once its address is known). */
  async allowRedirect(uri: string): Promise<void> {
    const current = (await this.store.adapter('Client').find(TEST_CONSOLE_CLIENT_ID)) as unknown as ClientMetadata;
    await this.registerClient({ ...current, redirect_uris: [...(current.redirect_uris ?? []), uri] });
  }

  /**
   * A JWT signed with the provider's own key (its `kid`, ES256) carrying exactly `claims`: for tests
   * of what a verifier must refuse although the signature is good (another audience, expired).
   */
  async signWithProviderKey(claims: Record<string, unknown>): Promise<string> {
    const key = await importJWK(this.signingKey as JWK, 'ES256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: this.signingKey.kid as string, typ: 'at+jwt' }).sign(key);
  }

  /**
   * Plays the user of the device flow in place of a browser: opens the verification URI (with the
   * user code in it), confirms the code, signs in on the provider's form and follows the provider's
   * redirects to its final page, keeping its cookies. Returns that page (the success page, or the
   * error page when the code is refused); throws when the sign-in is refused.
   */
  async completeDeviceSignIn(verificationUriComplete: string, username: string, password: string): Promise<string> {
    const agent = new FormAgent();
    let page = await agent.open(verificationUriComplete);
    // The provider's pages are forms that a browser submits (the first one by script): submit them, signing in where asked.
    for (let step = 0; step < 10; step++) {
      const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.text);
      if (!form) return page.text;
      const fields = new URLSearchParams();
      for (const m of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) fields.set(m[1]!, decodeHtml(m[2]!));
      if (/name="username"/.test(form[2]!)) {
        fields.set('username', username);
        fields.set('password', password);
      }
      page = await agent.submit(new URL(decodeHtml(form[1]!), page.url).toString(), fields);
      if (page.status === 401) throw new Error(`the test identity provider refused the sign-in of ${username}`);
    }
    throw new Error('the device sign-in did not end within 10 pages');
  }

  /** The sign-in page: GET shows the form; POST checks the user name and password and resumes the flow. */
  private async interaction(req: IncomingMessage, res: ServerResponse, users: ReadonlyMap<string, TestUser>): Promise<void> {
    const provider = this.provider!;
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      // First-party clients: what they asked for is granted without a consent page.
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      if (!grant) throw new Error('the grant of this interaction is gone');
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return;
    }
    if (details.prompt.name !== 'login') throw new Error(`the test provider only handles sign-in and consent, not ${details.prompt.name}`);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        html(
          'Sign in to the test identity provider',
          `<form method="post" action="/interaction/${escapeHtml(details.uid)}"><label>User <input name="username" autocomplete="username" required></label><label>Password <input name="password" type="password" autocomplete="current-password" required></label><button type="submit" id="sign-in">Sign in</button></form>`,
        ),
      );
      return;
    }
    const form = await formOf(req);
    const username = form.get('username') ?? '';
    const user = users.get(username);
    const ok = user !== undefined && user.password === form.get('password');
    this.logins.push({ username, ok });
    if (!ok) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html('Sign-in refused', '<p id="refused">Unknown user or wrong password.</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const decodeHtml = (s: string): string => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** A user agent of HTML forms: keeps cookies per name, follows redirects itself (so it sees every Set-Cookie). */
class FormAgent {
  private readonly cookies = new Map<string, string>();

  open(url: string): Promise<{ url: string; status: number; text: string }> {
    return this.go(url, { method: 'GET' });
  }

  submit(url: string, fields: URLSearchParams): Promise<{ url: string; status: number; text: string }> {
    return this.go(url, { method: 'POST', body: fields.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  private async go(url: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<{ url: string; status: number; text: string }> {
    let current = url;
    let req = init;
    for (let hop = 0; hop < 10; hop++) {
      const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(current, { ...req, redirect: 'manual', headers: { ...req.headers, ...(cookie ? { cookie } : {}) }, signal: AbortSignal.timeout(10_000) });
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        const eq = pair.indexOf('=');
        if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        current = new URL(location, current).toString();
        req = { method: 'GET' };
        continue;
      }
      return { url: current, status: res.status, text: await res.text() };
    }
    throw new Error(`more than 10 redirects from ${url}`);
  }
}

/** An ES256 private JWK, fresh per provider. */
function signingJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: `test-${Date.now().toString(36)}`, alg: 'ES256', use: 'sig' };
}
