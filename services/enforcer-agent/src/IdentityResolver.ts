import { createHash } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { IdentitySourceName } from './config.js';

/** Request headers, names in lower case (node:http and Envoy both give them so). */
export type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

export type IdentityResult =
  | { readonly ok: true; readonly identityId: string; readonly sessionId: string | undefined; readonly source: IdentitySourceName }
  | { readonly ok: false; readonly code: 'unauthenticated'; readonly reason: string };

export interface IdentityOptions {
  readonly sources: readonly IdentitySourceName[];
  readonly jwt?: {
    readonly jwksUrl?: string;
    readonly jwks?: { keys: Record<string, unknown>[] };
    readonly issuer: string;
    readonly audience: string;
    readonly algorithms: readonly string[];
    readonly identityClaim: string;
    readonly sessionClaim?: string;
    readonly clockToleranceS: number;
    /** How long a verified token is remembered (never past its `exp`), ms; 0: verify every time. */
    readonly cacheMs?: number;
  };
  readonly spiffe?: { readonly header: string; readonly trustDomains: readonly string[] };
  readonly header?: { readonly identity: string; readonly session?: string };
}

/** What an identifier may be (the contracts' id pattern: printable ASCII, no spaces, 1-256). */
const ID = /^[\x21-\x7e]{1,256}$/;
const MAX_TOKEN_BYTES = 16 * 1024;
const MAX_XFCC_BYTES = 64 * 1024;
/** Most verified tokens remembered (by SHA-256: a token is never kept). */
const MAX_CACHED_TOKENS = 10_000;
/** spiffe://trust-domain/path, path segments of [A-Za-z0-9._-], no dot segments (the SPIFFE ID spec). */
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]{1,255})((?:\/[A-Za-z0-9._-]+)+)$/;

/**
 * Who is calling, from the sources configured, tried in order. The first source that finds a
 * credential decides: a token that is present but fails verification is a denial, never a reason
 * to fall through to a weaker source. Reasons never echo the credential.
 */
export class IdentityResolver {
  private readonly keys: JWTVerifyGetKey | undefined;
  /** sha256(token) → the identity it verified to, until when (insertion order: oldest first). */
  private readonly verified = new Map<string, { identityId: string; sessionId: string | undefined; untilMs: number }>();

  constructor(private readonly o: IdentityOptions) {
    const jwt = o.jwt;
    if (o.sources.includes('jwt')) {
      if (!jwt) throw new Error('the jwt identity source needs its options');
      this.keys = jwt.jwks ? createLocalJWKSet(jwt.jwks) : createRemoteJWKSet(new URL(jwt.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    }
    if (o.sources.includes('spiffe') && !o.spiffe) throw new Error('the spiffe identity source needs its options');
    if (o.sources.includes('header') && !o.header) throw new Error('the header identity source needs its options');
  }

  /**
   * @param headers the request's headers
   * @param peerPrincipal a principal the proxy verified itself (Envoy's `source.principal`, the
   *   URI SAN of the mTLS peer certificate): used by the spiffe source before the header
   */
  async resolve(headers: Headers, peerPrincipal?: string): Promise<IdentityResult> {
    for (const source of this.o.sources) {
      const r = source === 'jwt' ? await this.fromJwt(headers) : source === 'spiffe' ? this.fromSpiffe(headers, peerPrincipal) : this.fromHeader(headers);
      if (r !== undefined) return r;
    }
    return deny(`no credential from any identity source (${this.o.sources.join(', ')})`);
  }

  private async fromJwt(headers: Headers): Promise<IdentityResult | undefined> {
    const auth = headers.authorization;
    if (auth === undefined) return undefined;
    if (typeof auth !== 'string') return deny('more than one authorization header');
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i.exec(auth.trim());
    if (!m) return /^bearer /i.test(auth.trim()) ? deny('the bearer token is malformed') : undefined;
    const token = m[1]!;
    if (token.length > MAX_TOKEN_BYTES) return deny(`the bearer token is longer than ${MAX_TOKEN_BYTES} bytes`);
    const o = this.o.jwt!;
    const cacheMs = o.cacheMs ?? 0;
    const key = cacheMs > 0 ? createHash('sha256').update(token).digest('base64') : '';
    if (cacheMs > 0) {
      const hit = this.verified.get(key);
      if (hit !== undefined && hit.untilMs > Date.now()) return { ok: true, identityId: hit.identityId, sessionId: hit.sessionId, source: 'jwt' };
      if (hit !== undefined) this.verified.delete(key);
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys!, { issuer: o.issuer, audience: o.audience, algorithms: [...o.algorithms], clockTolerance: o.clockToleranceS, requiredClaims: ['exp'] }));
    } catch (e) {
      return deny(`the bearer token was refused (${joseReason(e)})`);
    }
    const id = payload[o.identityClaim];
    if (typeof id !== 'string' || !ID.test(id)) return deny(`the token's ${o.identityClaim} claim is not an identity id`);
    let sessionId: string | undefined;
    if (o.sessionClaim !== undefined && payload[o.sessionClaim] !== undefined) {
      const s = payload[o.sessionClaim];
      if (typeof s !== 'string' || !ID.test(s)) return deny(`the token's ${o.sessionClaim} claim is not a session id`);
      sessionId = s;
    }
    if (cacheMs > 0) {
      // Remembered until its exp at the latest (without the clock tolerance), so an expired token is verified again and refused.
      const untilMs = Math.min(Date.now() + cacheMs, Number(payload.exp) * 1000);
      if (this.verified.size >= MAX_CACHED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, { identityId: id, sessionId, untilMs });
    }
    return { ok: true, identityId: id, sessionId, source: 'jwt' };
  }

  private fromSpiffe(headers: Headers, peerPrincipal: string | undefined): IdentityResult | undefined {
    const o = this.o.spiffe!;
    if (peerPrincipal !== undefined && peerPrincipal !== '') return this.spiffeId(peerPrincipal);
    const raw = headers[o.header];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') return deny(`more than one ${o.header} header`);
    if (raw.length > MAX_XFCC_BYTES) return deny(`the ${o.header} header is longer than ${MAX_XFCC_BYTES} bytes`);
    const elements = splitOutsideQuotes(raw, ',');
    if (elements === undefined) return deny(`the ${o.header} header is malformed`);
    // Each proxy hop appends an element: only a proxy that replaces the header (Envoy SANITIZE_SET) leaves one we can trust.
    if (elements.length !== 1) return deny(`the ${o.header} header names ${elements.length} certificates; exactly one is accepted`);
    const pairs = splitOutsideQuotes(elements[0]!, ';');
    if (pairs === undefined) return deny(`the ${o.header} header is malformed`);
    const uris: string[] = [];
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) return deny(`the ${o.header} header is malformed`);
      if (p.slice(0, eq).trim().toLowerCase() === 'uri') uris.push(unquote(p.slice(eq + 1).trim()));
    }
    const spiffe = uris.filter((u) => u.startsWith('spiffe://'));
    if (spiffe.length === 0) return deny(`the forwarded client certificate has no SPIFFE ID`);
    if (spiffe.length > 1) return deny('the forwarded client certificate has more than one SPIFFE ID');
    return this.spiffeId(spiffe[0]!);
  }

  private spiffeId(id: string): IdentityResult {
    const m = SPIFFE_ID.exec(id);
    if (!m || id.length > 256 || m[2]!.split('/').some((s) => s === '.' || s === '..')) return deny('the SPIFFE ID is malformed');
    if (!this.o.spiffe!.trustDomains.includes(m[1]!)) return deny('the SPIFFE ID is not of a trusted trust domain');
    return { ok: true, identityId: id, sessionId: undefined, source: 'spiffe' };
  }

  private fromHeader(headers: Headers): IdentityResult | undefined {
    const o = this.o.header!;
    const id = headers[o.identity];
    if (id === undefined) return undefined;
    if (typeof id !== 'string') return deny(`more than one ${o.identity} header`);
    if (!ID.test(id)) return deny(`the ${o.identity} header is not an identity id`);
    let sessionId: string | undefined;
    if (o.session !== undefined) {
      const s = headers[o.session];
      if (s !== undefined) {
        if (typeof s !== 'string' || !ID.test(s)) return deny(`the ${o.session} header is not a session id`);
        sessionId = s;
      }
    }
    return { ok: true, identityId: id, sessionId, source: 'header' };
  }
}

function deny(reason: string): IdentityResult {
  return { ok: false, code: 'unauthenticated', reason };
}

/** jose's error code (and the claim that failed), never its message text or the token. */
function joseReason(e: unknown): string {
  const x = e as { code?: unknown; claim?: unknown };
  const code = typeof x.code === 'string' ? x.code : 'invalid';
  return typeof x.claim === 'string' && /^[a-z]{1,16}$/i.test(x.claim) ? `${code}: ${x.claim}` : code;
}

/** Splits on `sep` outside double quotes (backslash escapes inside); undefined when a quote is left open. */
function splitOutsideQuotes(s: string, sep: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted && c === '\\' && i + 1 < s.length) {
      cur += c + s[++i]!;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return undefined;
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}
