import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import { TransportError } from './TransportError.js';

/** Kafka headers that carry a command's Ed25519 signature over the exact message value. */
export const SIGNATURE_HEADER = 'livescope-sig';
export const KEY_ID_HEADER = 'livescope-kid';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export interface VerifyingKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

/** Signs command values with the active key. Rotation: start signing with a new kid; verifiers hold both for a while. */
export class CommandSigner {
  constructor(readonly key: SigningKey) {}

  headers(value: Buffer): IHeaders {
    return this.headersOf(this.sign(value));
  }

  /** The Ed25519 signature of a value (deterministic). */
  sign(value: Buffer): Buffer {
    return sign(null, value, this.key.privateKey);
  }

  /** The headers that carry a signature made with this key (on any thread). */
  headersOf(signature: Buffer): IHeaders {
    return { [KEY_ID_HEADER]: this.key.kid, [SIGNATURE_HEADER]: signature };
  }
}

/** Verifies command signatures against a set of trusted public keys (several during a rotation). */
export class CommandVerifier {
  private readonly keys: Map<string, KeyObject>;

  constructor(keys: readonly VerifyingKey[]) {
    this.keys = new Map(keys.map((k) => [k.kid, k.publicKey]));
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Throws a `poison` TransportError when the value is unsigned, signed by an unknown key, or forged. */
  check(value: Buffer, headers: IHeaders | undefined): string {
    const kid = headerString(headers?.[KEY_ID_HEADER]);
    const sig = headerBuffer(headers?.[SIGNATURE_HEADER]);
    if (kid === undefined || sig === undefined) throw new TransportError('SIGNATURE_MISSING', 'poison', 'command is not signed');
    const key = this.keys.get(kid);
    if (!key) throw new TransportError('UNKNOWN_KEY_ID', 'poison', `command is signed with unknown key id ${kid}`);
    if (!verify(null, value, key, sig)) throw new TransportError('SIGNATURE_INVALID', 'poison', `signature by ${kid} does not match the command`);
    return kid;
  }
}

function headerString(h: IHeaders[string]): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? undefined : v.toString();
}
function headerBuffer(h: IHeaders[string]): Buffer | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? Buffer.from(v, 'binary') : v;
}

/** Key material in configuration: PEM (PKCS#8 private, SPKI public) or base64url raw 32-byte keys. */
export function parsePrivateKey(kid: string, material: string): SigningKey {
  return { kid, privateKey: material.includes('BEGIN') ? createPrivateKey(material) : createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: material.trim(), x: derivePublicX(material.trim()) }, format: 'jwk' }) };
}

export function parsePublicKey(kid: string, material: string): VerifyingKey {
  return { kid, publicKey: material.includes('BEGIN') ? createPublicKey(material) : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: material.trim() }, format: 'jwk' }) };
}

function derivePublicX(d: string): string {
  // Ed25519 JWK import needs x; derive it by importing the PKCS#8 form built from the seed.
  const seed = Buffer.from(d, 'base64url');
  if (seed.length !== 32) throw new TransportError('BAD_KEY', 'fatal', 'an Ed25519 private key must be 32 bytes (base64url)');
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pub = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  return (pub.export({ format: 'jwk' }) as { x: string }).x;
}

/** A fresh key pair, as base64url raw keys (for development and tests). */
export function generateSigningKeyPair(kid: string): { kid: string; privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  void publicKey;
  return { kid, privateKey: jwk.d, publicKey: jwk.x };
}
