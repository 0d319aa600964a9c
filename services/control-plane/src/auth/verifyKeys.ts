import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A public key trusted for API tokens, with the JWS algorithms it may verify (no algorithm confusion). */
export interface TrustedTokenKey {
  readonly kid: string;
  readonly key: KeyObject;
  readonly algorithms: readonly string[];
}

/**
 * Key material as configured: a PEM SPKI public key, a base64url raw Ed25519 public key (the
 * project's convention for signing keys), or a public JWK object.
 */
export function parseTrustedKey(kid: string, material: unknown): TrustedTokenKey {
  let key: KeyObject;
  if (typeof material === 'string' && material.includes('BEGIN')) key = createPublicKey(material);
  else if (typeof material === 'string') {
    const raw = Buffer.from(material.trim(), 'base64url');
    if (raw.length !== 32) throw new Error(`key ${kid}: a raw Ed25519 public key is 32 bytes base64url (got ${raw.length})`);
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: material.trim() }, format: 'jwk' });
  } else if (typeof material === 'object' && material !== null) {
    const jwk = material as JsonWebKey;
    if (jwk.d !== undefined) throw new Error(`key ${kid}: a private JWK was configured where a public key belongs`);
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } else {
    throw new Error(`key ${kid}: expected a PEM public key, a base64url Ed25519 key or a JWK`);
  }
  if (key.type !== 'public') throw new Error(`key ${kid}: not a public key`);
  return { kid, key, algorithms: algorithmsFor(key) };
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['ES256'];
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      throw new Error(`EC curve ${curve ?? '?'} is not supported for API tokens`);
    }
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'dsa':
    case 'ed448':
    case 'x25519':
    case 'x448':
    case undefined:
      throw new Error(`key type ${key.asymmetricKeyType ?? '?'} is not supported for API tokens`);
  }
}

/** Parses `LIVESCOPE_API_JWT_PUBLIC_KEYS`: a JSON object of key id → key material. */
export function parseTrustedKeys(json: string): TrustedTokenKey[] {
  const parsed = JSON.parse(json) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object of key id → public key');
  return Object.entries(parsed as Record<string, unknown>).map(([kid, material]) => parseTrustedKey(kid, material));
}
