import type { FastifyReply } from 'fastify';
import { ControlPlaneError } from '../../ControlPlaneError.js';
import { HIJACKED, route, type RouteDef } from '../../http/RouteDef.js';
import type { ConsoleAnswer } from './ConsoleService.js';
import * as S from './schemas.js';

/** What the console routes need. */
export interface ConsoleApi {
  /** Answers a request for the web console: an asset of its build, or its page for client-side routes. */
  consoleAsset(path: string): ConsoleAnswer;
  /** Origins the console may call besides its own: the OpenID provider it signs in with (discovery, token endpoint). */
  connectSources?(): readonly string[];
}

const DAY_MS = 86_400_000;
// Everything the console loads comes from here; the API is same-origin; it calls nothing else but
// the OpenID provider it signs in with, when single sign-on is configured.
const securityHeaders = (connect: readonly string[]): Record<string, string> => ({
  'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ${["'self'", ...connect].join(' ')}; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

async function sendConsoleAnswer(reply: FastifyReply, answer: ConsoleAnswer, connect: readonly string[]): Promise<void> {
  void reply.headers(securityHeaders(connect));
  switch (answer.kind) {
    case 'unavailable':
      await reply.code(503).type('text/plain; charset=utf-8').send(`The livescope web console is not available on this control plane: ${answer.problem}.\n`);
      return;
    case 'not-found':
      throw new ControlPlaneError('NOT_FOUND', `no console file ${answer.path}`);
    case 'file':
      if (answer.immutable) await reply.sendFile(answer.path, answer.root, { maxAge: 365 * DAY_MS, immutable: true });
      else await reply.header('cache-control', 'no-cache').sendFile(answer.path, answer.root, { cacheControl: false });
  }
}

/** Routes of the web console: redirects to it, its page and its assets (public). */
export function consoleRoutes(svc: ConsoleApi): RouteDef[] {
  return [
    route({
      id: 'home',
      method: 'GET',
      path: '/',
      tag: 'console',
      summary: 'Redirects to the web console',
      roles: 'public',
      success: { status: 302, description: 'To /console/.' },
      handler: ({ reply }) => {
        void reply.redirect('/console/', 302);
        return Promise.resolve(HIJACKED);
      },
    }),
    route({
      id: 'consoleRoot',
      method: 'GET',
      path: '/console',
      tag: 'console',
      summary: 'Redirects to the web console',
      roles: 'public',
      success: { status: 302, description: 'To /console/.' },
      handler: ({ reply }) => {
        void reply.redirect('/console/', 302);
        return Promise.resolve(HIJACKED);
      },
    }),
    route({
      id: 'console',
      method: 'GET',
      path: '/console/*',
      tag: 'console',
      summary: 'The web console: its page (for every client-side route) and its bundled assets',
      description: 'The built `@livescope/console` (no CDN: everything is served from here). Data comes from the /v1 API with a bearer token: from the OpenID provider (authorization code with PKCE, callback `/console/callback`) when single sign-on is configured, else pasted at login.',
      roles: 'public',
      params: S.ConsoleParams,
      success: { status: 200, description: 'The page or asset.', contentType: 'text/html' },
      errors: [404, 503],
      handler: async ({ params, reply }) => {
        await sendConsoleAnswer(reply, svc.consoleAsset(params['*']), svc.connectSources?.() ?? []);
        return HIJACKED;
      },
    }),
  ];
}
