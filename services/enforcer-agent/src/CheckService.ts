import type { Authorizer, DecisionCode } from '@livescope/enforcer';
import type { Headers, IdentityResolver } from './IdentityResolver.js';
import type { MappingResult, RouteTable } from './RouteTable.js';

/** One check, from any of the agent's APIs (untrusted fields). */
export interface CheckInput {
  /** The request line, mapped to an action and resource by the route table. */
  readonly method?: string;
  readonly host?: string;
  readonly path?: string;
  /** Given directly instead of a request line (the JSON API). */
  readonly action?: string;
  readonly resource?: string;
  readonly headers: Headers;
  /** A principal the proxy verified (Envoy's mTLS peer). */
  readonly peerPrincipal?: string;
  /** Given by a trusted caller that authenticated the request itself (`LIVESCOPE_AGENT_TRUST_CALLER_IDENTITY`). */
  readonly identity?: string;
  readonly session?: string;
}

export type CheckCode = DecisionCode | 'unauthenticated' | 'not-ready' | Extract<MappingResult, { ok: false }>['code'];

export interface CheckResult {
  readonly allowed: boolean;
  readonly code: CheckCode;
  readonly reason: string;
  readonly identityId?: string;
  readonly action?: string;
  readonly resource?: string;
  /** Scope version the decision was made on (0: none). */
  readonly version: number;
}

export interface CheckServiceOptions {
  readonly enforcer: Authorizer;
  readonly identities: IdentityResolver;
  readonly routes: RouteTable;
  /** Whether the enforcer has read the scope of every identity (before: every check is denied). */
  readonly ready: () => boolean;
  readonly trustCallerIdentity: boolean;
  /** Most identities remembered as served (the watch stream's default set). */
  readonly maxServed?: number;
}

const ACTION = /^[\x21-\x7e]{1,256}$/;
const RESOURCE = /^[\x21-\x7e]{1,1024}$/;
const ID = /^[\x21-\x7e]{1,256}$/;

/** Identity, then action and resource, then the SDK's local decision; any doubt is a denial. */
export class CheckService {
  /** Identities checked lately, oldest first (insertion order of a Map). */
  readonly served = new Map<string, true>();
  private readonly maxServed: number;

  constructor(private readonly o: CheckServiceOptions) {
    this.maxServed = o.maxServed ?? 10_000;
  }

  async check(input: CheckInput): Promise<CheckResult> {
    if (!this.o.ready()) return { allowed: false, code: 'not-ready', reason: 'fail-closed: the agent has not yet read the scope of every identity', version: 0 };
    let action: string;
    let resource: string;
    if (input.action !== undefined || input.resource !== undefined) {
      if (input.action === undefined || input.resource === undefined || !ACTION.test(input.action) || !RESOURCE.test(input.resource)) return bad('action and resource must both be printable ASCII without spaces');
      if (input.method !== undefined || input.path !== undefined) return bad('give either action and resource, or a request (method, host, path), not both');
      ({ action, resource } = input);
    } else {
      if (input.method === undefined || input.path === undefined || input.method === '' || input.path === '') return bad('the request has no method or path');
      const m = this.o.routes.map({ method: input.method, host: input.host ?? '', path: input.path });
      if (!m.ok) return { allowed: false, code: m.code, reason: m.reason, version: 0 };
      ({ action, resource } = m);
    }
    let identityId: string;
    let sessionId: string | undefined;
    if (input.identity !== undefined) {
      if (!this.o.trustCallerIdentity) return { allowed: false, code: 'unauthenticated', reason: 'identity given as such is not accepted here (LIVESCOPE_AGENT_TRUST_CALLER_IDENTITY is off)', action, resource, version: 0 };
      if (!ID.test(input.identity) || (input.session !== undefined && !ID.test(input.session))) return bad('identity and session must be printable ASCII without spaces');
      identityId = input.identity;
      sessionId = input.session;
    } else {
      const who = await this.o.identities.resolve(input.headers, input.peerPrincipal);
      if (!who.ok) return { allowed: false, code: who.code, reason: who.reason, action, resource, version: 0 };
      identityId = who.identityId;
      sessionId = who.sessionId;
    }
    this.remember(identityId);
    const d = this.o.enforcer.authorize(identityId, sessionId, action, resource);
    return { allowed: d.allowed, code: d.code, reason: d.reason, identityId, action, resource, version: d.version };
  }

  private remember(id: string): void {
    if (this.served.has(id)) {
      this.served.delete(id);
    } else if (this.served.size >= this.maxServed) {
      const oldest = this.served.keys().next();
      if (!oldest.done) this.served.delete(oldest.value);
    }
    this.served.set(id, true);
  }
}

function bad(reason: string): CheckResult {
  return { allowed: false, code: 'bad-request', reason, version: 0 };
}

/** The decision as response headers (header-safe text: printable ASCII, bounded). */
export function decisionHeaders(r: CheckResult): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'x-livescope-decision': r.allowed ? 'allowed' : 'denied',
    'x-livescope-code': r.code,
    'x-livescope-reason': headerSafe(r.reason),
    'x-livescope-version': String(r.version),
    ...(r.identityId !== undefined && r.allowed ? { 'x-livescope-identity': headerSafe(r.identityId) } : {}),
  };
}

function headerSafe(s: string): string {
   
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}
