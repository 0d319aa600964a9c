import { CompactSign, exportJWK, importJWK, importPKCS8, importSPKI, type CryptoKey, type JWK } from 'jose';
import { CaepError } from './CaepError.js';
import type { SetPayload } from './SetPayload.js';

export type SetAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';
export const SET_ALGORITHMS: readonly SetAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** A key from configuration: PEM (PKCS#8 private / SPKI public) or a JWK (JSON text or object). */
export interface KeyConfig {
  readonly kid: string;
  readonly alg: SetAlgorithm;
  /** The active signing key (only the first key of the list signs). */
  readonly privateKey?: string | JWK;
  /** A key that is only published (a previous key during rotation). */
  readonly publicKey?: string | JWK;
}

const asJwk = (material: string | JWK): JWK | undefined => {
  if (typeof material !== 'string') return material;
  const t = material.trim();
  return t.startsWith('{') ? (JSON.parse(t) as JWK) : undefined;
};

async function importPrivate(k: KeyConfig): Promise<CryptoKey> {
  const jwk = asJwk(k.privateKey!);
  try {
    const key = jwk ? await importJWK(jwk, k.alg, { extractable: true }) : await importPKCS8(k.privateKey as string, k.alg, { extractable: true });
    if (key instanceof Uint8Array) throw new CaepError('BAD_KEY', `key ${k.kid} is a symmetric key; SETs are signed with asymmetric keys`);
    return key;
  } catch (cause) {
    if (CaepError.is(cause)) throw cause;
    throw new CaepError('BAD_KEY', `cannot import the private key ${k.kid} for ${k.alg}: ${(cause as Error).message}`, { cause });
  }
}

async function importPublic(k: KeyConfig): Promise<CryptoKey> {
  const jwk = asJwk(k.publicKey!);
  try {
    const key = jwk ? await importJWK(jwk, k.alg, { extractable: true }) : await importSPKI(k.publicKey as string, k.alg, { extractable: true });
    if (key instanceof Uint8Array) throw new CaepError('BAD_KEY', `key ${k.kid} is a symmetric key`);
    return key;
  } catch (cause) {
    if (CaepError.is(cause)) throw cause;
    throw new CaepError('BAD_KEY', `cannot import the public key ${k.kid} for ${k.alg}: ${(cause as Error).message}`, { cause });
  }
}

/** Public JWK of a key (private members dropped). */
async function publicJwk(kid: string, alg: SetAlgorithm, key: CryptoKey): Promise<JWK> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ext: _ext, ...pub } = await exportJWK(key);
  return { ...pub, kid, alg, use: 'sig' };
}

/**
 * Signs SETs (JWS compact, header `typ: secevent+jwt`, `kid`) with the first configured key and
 * publishes every configured key's public half as the JWKS receivers verify with.
 */
export class SetSigner {
  private constructor(
    private readonly active: { kid: string; alg: SetAlgorithm; key: CryptoKey },
    private readonly published: readonly JWK[],
  ) {}

  static async create(keys: readonly KeyConfig[]): Promise<SetSigner> {
    const first = keys[0];
    if (!first?.privateKey) throw new CaepError('BAD_KEY', 'the first SET key must have a private key (it signs)');
    const kids = new Set<string>();
    const published: JWK[] = [];
    let active: { kid: string; alg: SetAlgorithm; key: CryptoKey } | undefined;
    for (const k of keys) {
      if (kids.has(k.kid)) throw new CaepError('BAD_KEY', `duplicate key id ${k.kid}`);
      kids.add(k.kid);
      if (!SET_ALGORITHMS.includes(k.alg)) throw new CaepError('BAD_KEY', `unsupported algorithm ${String(k.alg)} for key ${k.kid}`);
      const priv = k.privateKey ? await importPrivate(k) : undefined;
      const pub = priv ?? (k.publicKey ? await importPublic(k) : undefined);
      if (!pub) throw new CaepError('BAD_KEY', `key ${k.kid} has neither a private nor a public key`);
      if (k === first && priv) active = { kid: k.kid, alg: k.alg, key: priv };
      published.push(await publicJwk(k.kid, k.alg, pub));
    }
    return new SetSigner(active!, published);
  }

  get kid(): string {
    return this.active.kid;
  }

  get alg(): SetAlgorithm {
    return this.active.alg;
  }

  async sign(payload: SetPayload): Promise<string> {
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: this.active.alg, kid: this.active.kid, typ: 'secevent+jwt' }).sign(this.active.key);
  }

  /**
   * Signs another JWT with the active key (the transmitter's OAuth access tokens, `typ: at+jwt`,
   * RFC 9068). Receivers of SETs must check `typ: secevent+jwt`, so the two can never be confused.
   */
  async signToken(claims: Record<string, unknown>, typ: string): Promise<string> {
    if (typ.toLowerCase().includes('secevent')) throw new CaepError('BAD_KEY', 'signToken is not for SETs: use sign');
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: this.active.alg, kid: this.active.kid, typ }).sign(this.active.key);
  }

  /** The JWKS document (`/jwks.json`). */
  jwks(): { keys: JWK[] } {
    return { keys: this.published.map((k) => ({ ...k })) };
  }
}
