import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ControlPlaneError } from '../ControlPlaneError.js';
import { claimedValues, DEFAULT_ROLE_SOURCE, rolesOf, type RoleSource } from './roleMapping.js';
import { principalOf, type Principal } from './roles.js';
import type { TrustedTokenKey } from './verifyKeys.js';

export const AuthFailure = {
  missing: 'missing',
  malformed: 'malformed',
  expired: 'expired',
  badSignature: 'bad-signature',
  unknownKey: 'unknown-key',
  wrongAudience: 'wrong-audience',
  wrongIssuer: 'wrong-issuer',
  invalidClaims: 'invalid-claims',
} as const;
export type AuthFailure = (typeof AuthFailure)[keyof typeof AuthFailure];

/** A 401: the request carries no usable credentials. `reason` labels the metric, never the response. */
export class AuthenticationError extends ControlPlaneError {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super('UNAUTHENTICATED', message);
  }
}

export interface TokenVerifierOptions {
  readonly keys: readonly TrustedTokenKey[];
  readonly jwksUrl?: string | undefined;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceMs: number;
  /**
   * The claim that marks a person, as `name=value` (a string claim equal to the value, or an array
   * claim containing it). Default `kind=human`. Tokens of workloads and agents must not carry it.
   */
  readonly personClaim?: { readonly name: string; readonly value: string };
  /** Where roles come from: a claim and an optional mapping of its values. Default: the `roles` claim, values as role names. */
  readonly roles?: RoleSource;
}

const ASYMMETRIC_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const SUBJECT = /^[\x21-\x7e]{1,256}$/;

/**
 * Verifies bearer JWTs with jose: signature against the configured keys (each key only with the
 * algorithms of its type), issuer, audience, expiry; then reads `sub`, the roles (from the configured
 * claim, mapped) and `exp`.
 */
export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(private readonly options: TokenVerifierOptions) {
    const byKid = new Map(options.keys.map((k) => [k.kid, k]));
    const remote = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 }) : undefined;
    this.getKey = async (header, token) => {
      const k = header.kid !== undefined ? byKid.get(header.kid) : options.keys.length === 1 && !remote ? options.keys[0] : undefined;
      if (k) {
        if (!k.algorithms.includes(header.alg)) throw new AuthenticationError('bad-signature', `algorithm ${header.alg} is not accepted for key ${k.kid}`);
        return k.key;
      }
      if (remote) return remote(header, token);
      throw new AuthenticationError('unknown-key', header.kid === undefined ? 'the token names no key id (kid)' : `the token is signed with an unknown key id`);
    };
  }

  /** Verifies the `Authorization` header value; throws AuthenticationError (401). */
  async verify(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '') throw new AuthenticationError('missing', 'a bearer token is required (Authorization: Bearer <JWT>)');
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
    if (!m) throw new AuthenticationError('malformed', 'the Authorization header is not a bearer JWT');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(m[1]!, this.getKey, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ASYMMETRIC_ALGORITHMS,
        clockTolerance: Math.round(this.options.clockToleranceMs / 1000),
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw classify(e);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw new AuthenticationError('invalid-claims', 'the token subject must be 1-256 printable characters');
    const source = this.options.roles ?? DEFAULT_ROLE_SOURCE;
    const claimed = claimedValues(payload, source);
    if (claimed === 'invalid') throw new AuthenticationError('invalid-claims', `the ${source.claim} claim must be a string or an array of strings`);
    const pc = this.options.personClaim ?? { name: 'kind', value: 'human' };
    const marker = payload[pc.name];
    const person = marker === pc.value || (Array.isArray(marker) && marker.includes(pc.value));
    const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : typeof payload.iat === 'number' ? payload.iat : undefined;
    // jose checked `exp` (required) is a number; it is kept so that event streams end when the token does.
    const exp = payload.exp as number;
    return principalOf(sub, rolesOf(claimed, source), { issuer: this.options.issuer, person, expiresAt: exp * 1000, ...(authTime !== undefined ? { authenticatedAt: authTime * 1000 } : {}) });
  }
}

function classify(e: unknown): AuthenticationError {
  if (e instanceof AuthenticationError) return e;
  if (e instanceof errors.JWTExpired) return new AuthenticationError('expired', 'the token has expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new AuthenticationError('wrong-audience', 'the token is not meant for this API (audience)');
    if (e.claim === 'iss') return new AuthenticationError('wrong-issuer', 'the token is not from the configured issuer');
    return new AuthenticationError('invalid-claims', `the token's ${e.claim} claim is not acceptable`);
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('bad-signature', 'the token signature does not verify');
  if (e instanceof errors.JWKSNoMatchingKey) return new AuthenticationError('unknown-key', 'no trusted key matches the token');
  if (e instanceof errors.JOSEAlgNotAllowed) return new AuthenticationError('bad-signature', 'the token algorithm is not accepted');
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return new AuthenticationError('unknown-key', 'the key set could not be fetched');
  return new AuthenticationError('malformed', 'the token is not a valid JWT');
}
