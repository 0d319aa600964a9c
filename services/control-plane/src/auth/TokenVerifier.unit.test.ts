import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintDevToken } from './devKeys.js';
import { AuthenticationError, TokenVerifier } from './TokenVerifier.js';
import { parseTrustedKey, parseTrustedKeys } from './verifyKeys.js';

const pair = (): { privateKey: KeyObject; x: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, x: (publicKey.export({ format: 'jwk' }) as { x: string }).x };
};
const trusted = pair();
const stranger = pair();
const verifier = new TokenVerifier({ keys: [parseTrustedKey('k1', trusted.x)], issuer: 'livescope', audience: 'livescope-api', clockToleranceMs: 0 });

async function token(o: { key?: KeyObject; kid?: string; aud?: string; iss?: string; exp?: number; sub?: string | null; roles?: unknown; alg?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(o.roles === undefined ? { roles: ['responder'] } : { roles: o.roles }).setProtectedHeader({ alg: o.alg ?? 'EdDSA', kid: o.kid ?? 'k1' }).setIssuer(o.iss ?? 'livescope').setAudience(o.aud ?? 'livescope-api').setIssuedAt(now).setExpirationTime(o.exp ?? now + 600);
  if (o.sub !== null) jwt = jwt.setSubject(o.sub ?? 'alice');
  return jwt.sign(o.key ?? trusted.privateKey);
}

const reasonOf = async (header: string | undefined): Promise<string> => {
  try {
    await verifier.verify(header);
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).httpStatus).toBe(401);
    return (e as AuthenticationError).reason;
  }
};

describe('TokenVerifier', () => {
  it('accepts a valid token and keeps only known roles', async () => {
    const p = await verifier.verify(`Bearer ${await token({ roles: ['responder', 'soc', 'root'] })}`);
    expect(p.sub).toBe('alice');
    expect([...p.roles].sort()).toEqual(['responder', 'soc']);
  });

  it('keeps the token expiry on the principal (event streams end there)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 42;
    const p = await verifier.verify(`Bearer ${await token({ exp })}`);
    expect(p.expiresAt).toBe(exp * 1000);
  });

  it('refuses missing, malformed, expired, forged, wrong-audience, wrong-issuer and unknown-key tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reasonOf(undefined)).toBe('missing');
    expect(await reasonOf('Basic dXNlcjpwYXNz')).toBe('malformed');
    expect(await reasonOf('Bearer not.a.jwt')).toBe('malformed');
    expect(await reasonOf(`Bearer ${await token({ exp: now - 60 })}`)).toBe('expired');
    expect(await reasonOf(`Bearer ${await token({ key: stranger.privateKey })}`)).toBe('bad-signature');
    expect(await reasonOf(`Bearer ${await token({ aud: 'someone-else' })}`)).toBe('wrong-audience');
    expect(await reasonOf(`Bearer ${await token({ iss: 'evil' })}`)).toBe('wrong-issuer');
    expect(await reasonOf(`Bearer ${await token({ kid: 'k9' })}`)).toBe('unknown-key');
    expect(await reasonOf(`Bearer ${await token({ sub: null })}`)).toBe('invalid-claims');
    expect(await reasonOf(`Bearer ${await token({ roles: { admin: true } })}`)).toBe('invalid-claims');
    expect(await reasonOf(`Bearer ${await token({ roles: [1] })}`)).toBe('invalid-claims');
  });

  it('refuses a token whose algorithm does not belong to the key (no algorithm confusion)', async () => {
    const tampered = (await token()).split('.');
    tampered[0] = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url');
    expect(await reasonOf(`Bearer ${tampered.join('.')}`)).toBe('bad-signature');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url')}.${tampered[1]}.`;
    expect(await reasonOf(`Bearer ${none}`)).not.toBe('accepted');
  });

  it('verifies development tokens minted by `livescope token`', async () => {
    const key = { kid: 'dev-api-1', privateKey: (trusted.privateKey.export({ format: 'jwk' }) as { d: string }).d, publicKey: trusted.x };
    const v = new TokenVerifier({ keys: [parseTrustedKey(key.kid, key.publicKey)], issuer: 'livescope', audience: 'livescope-api', clockToleranceMs: 0 });
    const p = await v.verify(`Bearer ${await mintDevToken({ key, sub: 'bob', roles: ['approver'], issuer: 'livescope', audience: 'livescope-api', ttlSeconds: 60 })}`);
    expect(p).toMatchObject({ sub: 'bob', roles: new Set(['approver']), issuer: 'livescope', person: true });
  });

  it('parses configured keys: raw Ed25519, PEM and JWK; refuses private keys', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = parseTrustedKeys(JSON.stringify({ a: trusted.x, b: publicKey.export({ format: 'pem', type: 'spki' }), c: publicKey.export({ format: 'jwk' }) }));
    expect(keys.map((k) => [k.kid, k.algorithms[0]])).toEqual([
      ['a', 'EdDSA'],
      ['b', 'ES256'],
      ['c', 'ES256'],
    ]);
    expect(() => parseTrustedKeys(JSON.stringify({ d: privateKey.export({ format: 'jwk' }) }))).toThrow(/private/);
    expect(() => parseTrustedKeys('[]')).toThrow(/JSON object/);
  });
});
