import { detectSource, type AdapterInput } from '@livescope/adapters';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { InputTransform } from './IngestPipeline.js';

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface GithubJwtVerifierOptions {
  /** The `aud` every token must carry (required: a verifier that accepts any audience accepts tokens minted for someone else). */
  readonly audience: string;
  readonly issuer?: string;
  readonly clockToleranceSec?: number;
  readonly currentDate?: Date;
}

/**
 * Verifies GitHub Actions OIDC JWTs against a JWKS (the issuer's, saved from
 * https://token.actions.githubusercontent.com/.well-known/jwks). With a JWKS configured every record
 * must be a token that verifies: a valid token is passed on marked `verified` (a flag only this shell
 * sets — nothing in a record can), anything else — forged, expired, for another audience, or decoded
 * claims that carry no signature at all — is dead-lettered `invalid-signature`.
 */
export function githubJwtVerifier(jwks: JSONWebKeySet, options: GithubJwtVerifierOptions): InputTransform {
  if (!options.audience) throw new TypeError('verifying GitHub OIDC tokens requires an audience');
  const keys = createLocalJWKSet(jwks);
  return async (input: AdapterInput) => {
    const text = input.parsed.ok && typeof input.parsed.value === 'string' ? input.parsed.value : input.raw.trim();
    if (!COMPACT.test(text)) return { reject: { reason: 'invalid-signature', message: 'GitHub OIDC verification is on (--jwks): only signed tokens are accepted; decoded claims cannot be verified' } };
    try {
      await jwtVerify(text, keys, {
        issuer: options.issuer ?? 'https://token.actions.githubusercontent.com',
        audience: options.audience,
        clockTolerance: options.clockToleranceSec ?? 60,
        ...(options.currentDate ? { currentDate: options.currentDate } : {}),
      });
      return { raw: text, parsed: { ok: false, error: 'a compact JWT' }, verified: true };
    } catch (e) {
      return { reject: { reason: 'invalid-signature', message: `GitHub OIDC token rejected: ${(e as Error).message}` } };
    }
  };
}

/** In auto-detect mode: verify the records detected as GitHub OIDC tokens, pass the others on. */
export function onlyGithubRecords(verify: InputTransform): InputTransform {
  return async (input) => (detectSource(input) === 'github-oidc' || (input.parsed.ok && typeof input.parsed.value === 'object' && input.parsed.value !== null && 'claims' in input.parsed.value) ? verify(input) : input);
}
