import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadControlPlaneConfig } from './config.js';

const x = (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x;

describe('control-plane configuration', () => {
  it('has loopback defaults and reads the shared pipeline variables', () => {
    const c = loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_TOPIC_PREFIX: 't1.', LIVESCOPE_KAFKA_BROKERS: 'a:1, b:2' });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8787, topicPrefix: 't1.', brokers: ['a:1', 'b:2'], pgSchema: 'livescope', jwt: { issuer: 'livescope', audience: 'livescope-api', jwksUrl: undefined }, devKeysPath: undefined, rateLimitPerMinute: 600 });
    expect(c.jwt.keys.map((k) => k.kid)).toEqual(['k']);
  });

  it('names the failing variable', () => {
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_PORT: 'eighty' })).toThrow(/LIVESCOPE_API_PORT/);
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: '{"k": 42}' })).toThrow(/LIVESCOPE_API_JWT_PUBLIC_KEYS/);
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_JWKS_URL: 'not a url' })).toThrow(/LIVESCOPE_API_JWKS_URL/);
  });

  it('requires token keys, accepting the development key file only as a fallback', () => {
    expect(() => loadControlPlaneConfig({})).toThrow(ConfigError);
    expect(() => loadControlPlaneConfig({})).toThrow(/LIVESCOPE_API_JWT_PUBLIC_KEYS.*LIVESCOPE_API_JWKS_URL/);
    expect(loadControlPlaneConfig({ LIVESCOPE_DEV_KEYS: '/tmp/k.json' }).devKeysPath).toBe('/tmp/k.json');
    expect(loadControlPlaneConfig({ LIVESCOPE_DEV_KEYS: '/tmp/k.json', LIVESCOPE_API_JWKS_URL: 'http://127.0.0.1:9/jwks' }).devKeysPath).toBeUndefined();
  });
});
