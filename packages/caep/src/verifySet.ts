import { compactVerify, decodeProtectedHeader, errors, type CompactVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import { describeIssues } from '@livescope/contracts';
import { CaepError } from './CaepError.js';
import { SET_ALGORITHMS } from './SetSigner.js';
import { audiences, forbiddenClaims, SetPayload } from './SetPayload.js';

/** An issuer whose SETs are accepted: its keys and the audience(s) its SETs must name. */
export interface TrustedIssuer {
  readonly issuer: string;
  /** Our receiver's audience values; a SET must name at least one. */
  readonly audience: readonly string[];
  /** Key lookup by JWS header (`kid`): a local JWKS (`createLocalJWKSet`) or a remote one. */
  readonly keys: CompactVerifyGetKey;
}

export interface VerifyOptions {
  readonly trusted: (iss: string) => TrustedIssuer | undefined;
  /** Now, in seconds since the epoch. */
  readonly nowSec: number;
  /** Oldest accepted `iat`, in seconds before now. Default 7 days (poll queues can hold SETs that long). */
  readonly maxAgeSec?: number;
  /** Largest accepted clock skew into the future, in seconds. Default 300. */
  readonly maxFutureSec?: number;
}

export interface VerifiedSet {
  readonly payload: SetPayload;
  readonly header: ProtectedHeaderParameters;
}

const decoder = new TextDecoder();

function unverifiedPayload(jws: string): unknown {
  const part = jws.split('.')[1];
  if (!part) throw new CaepError('invalid_request', 'the SET is not a compact JWS');
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
    return JSON.parse(decoder.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))) as unknown;
  } catch (cause) {
    throw new CaepError('invalid_request', 'the SET payload is not JSON', { cause });
  }
}

/**
 * Verifies a received SET (RFC 8417 / SSF 1.0): JWS structure and explicit type, a trusted issuer,
 * the signature with that issuer's keys, the payload's structure, our audience, and a plausible `iat`.
 * Throws a CaepError whose `code` is the RFC 8935 error to answer with. `jti` replay is checked by the
 * caller, which owns the memory of received ids.
 */
export async function verifySet(jws: string, o: VerifyOptions): Promise<VerifiedSet> {
  const token = jws.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new CaepError('invalid_request', 'the body is not a compact JWS (application/secevent+jwt)');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new CaepError('invalid_request', 'the JWS header is not readable', { cause });
  }
  if (header.typ !== undefined && header.typ.toLowerCase() !== 'secevent+jwt' && header.typ.toLowerCase() !== 'application/secevent+jwt') {
    throw new CaepError('invalid_request', `JWS typ ${header.typ} is not secevent+jwt`);
  }
  if (!header.alg || !(SET_ALGORITHMS as readonly string[]).includes(header.alg)) throw new CaepError('invalid_key', `algorithm ${header.alg ?? 'none'} is not accepted`);
  const claimed = unverifiedPayload(token) as { iss?: unknown } | null;
  const iss = typeof claimed?.iss === 'string' ? claimed.iss : undefined;
  if (!iss) throw new CaepError('invalid_request', 'the SET has no iss');
  const trusted = o.trusted(iss);
  if (!trusted) throw new CaepError('invalid_issuer', `issuer ${iss} is not trusted by this receiver`);
  let bytes: Uint8Array;
  try {
    bytes = (await compactVerify(token, trusted.keys, { algorithms: [...SET_ALGORITHMS] })).payload;
  } catch (cause) {
    const why = cause instanceof errors.JWKSNoMatchingKey ? `no key of ${iss} matches kid ${header.kid ?? '(none)'}` : cause instanceof errors.JWSSignatureVerificationFailed ? 'the signature does not verify' : (cause as Error).message;
    throw new CaepError('invalid_key', `SET from ${iss}: ${why}`, { cause });
  }
  const parsed = SetPayload.safeParse(JSON.parse(decoder.decode(bytes)));
  if (!parsed.success) throw new CaepError('invalid_request', `the SET payload is not valid: ${describeIssues(parsed.error).message}`);
  const payload = parsed.data;
  const forbidden = forbiddenClaims(payload);
  if (forbidden.length) throw new CaepError('invalid_request', `SET ${payload.jti} carries ${forbidden.join(' and ')}`);
  if (!audiences(payload).some((a) => trusted.audience.includes(a))) throw new CaepError('invalid_audience', `SET audience ${JSON.stringify(payload.aud)} does not name this receiver`);
  const maxAge = o.maxAgeSec ?? 7 * 86_400;
  const maxFuture = o.maxFutureSec ?? 300;
  if (payload.iat < o.nowSec - maxAge) throw new CaepError('invalid_request', `SET ${payload.jti} was issued ${o.nowSec - payload.iat} s ago, more than the ${maxAge} s accepted`);
  if (payload.iat > o.nowSec + maxFuture) throw new CaepError('invalid_request', `SET ${payload.jti} is issued in the future (iat ${payload.iat})`);
  return { payload, header };
}
