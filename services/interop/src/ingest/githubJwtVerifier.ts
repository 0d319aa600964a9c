import type { AdapterInput } from '@livescope/adapters';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { InputTransform } from './IngestPipeline.js';

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Verifies GitHub Actions OIDC JWTs against a JWKS (the issuer's, saved from
 * https://token.actions.githubusercontent.com/.well-known/jwks): a valid token becomes
 * `{claims, verified: true}`, a forged or expired one a dead letter (`invalid-signature`).
 * Decoded claim sets (not JWTs) pass through unchanged.
 */
export function githubJwtVerifier(jwks: JSONWebKeySet, options: { issuer?: string; audience?: string; clockToleranceSec?: number; currentDate?: Date } = {}): InputTransform {
  const keys = createLocalJWKSet(jwks);
  return async (input: AdapterInput) => {
    const text = input.parsed.ok && typeof input.parsed.value === 'string' ? input.parsed.value : input.raw.trim();
    if (!COMPACT.test(text)) return input;
    try {
      const { payload } = await jwtVerify(text, keys, {
        issuer: options.issuer ?? 'https://token.actions.githubusercontent.com',
        ...(options.audience ? { audience: options.audience } : {}),
        clockTolerance: options.clockToleranceSec ?? 60,
        ...(options.currentDate ? { currentDate: options.currentDate } : {}),
      });
      const value = { claims: payload, verified: true };
      return { raw: input.raw, parsed: { ok: true, value } };
    } catch (e) {
      return { reject: { reason: 'invalid-signature', message: `GitHub OIDC token rejected: ${(e as Error).message}` } };
    }
  };
}
