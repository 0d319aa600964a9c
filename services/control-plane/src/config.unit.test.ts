import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonOptions, kafkaConnection, optionsBlock, optionsTable, ownOptions } from '@livescope/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, controlPlaneOptions, loadControlPlaneConfig } from './config.js';

const x = (generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x;
const producerSeed = (generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { d: string }).d;
/** The control plane's producer key, required in every configuration. */
const P = { LIVESCOPE_PRODUCER_KEY_ID: 'cp-1', LIVESCOPE_PRODUCER_KEY: producerSeed };

describe('control-plane configuration', () => {
  it('has loopback defaults and reads the shared pipeline variables', () => {
    const c = loadControlPlaneConfig({ ...P, LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_TOPIC_PREFIX: 't1.', LIVESCOPE_KAFKA_BROKERS: 'a:1, b:2' });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8787, topicPrefix: 't1.', brokers: ['a:1', 'b:2'], pgSchema: 'livescope', jwt: { issuer: 'livescope', audience: 'livescope-api', jwksUrl: undefined }, devKeysPath: undefined, rateLimitPerMinute: 600 });
    expect(c.jwt.keys.map((k) => k.kid)).toEqual(['k']);
    expect(c.jwt.personClaim).toEqual({ name: 'kind', value: 'human' });
    expect(c.producerKeyId).toBe('cp-1');
    // The producer key is there for the publisher, never in a log line.
    expect(c.producerKey).toBe(producerSeed);
    expect(JSON.stringify(c)).not.toContain(producerSeed);
  });

  it('takes single sign-on from an OpenID provider, with roles from a mapped claim, checked at start', () => {
    const sso = { ...P, LIVESCOPE_API_OIDC_ISSUER: 'https://idp.example.com/realms/x', LIVESCOPE_API_OIDC_CONSOLE_CLIENT_ID: 'console', LIVESCOPE_API_ROLES_CLAIM: 'groups', LIVESCOPE_API_ROLE_MAPPING: '{"sec-oncall":["responder","soc"]}' };
    const c = loadControlPlaneConfig(sso);
    expect(c.oidc).toEqual({ issuer: 'https://idp.example.com/realms/x', consoleClientId: 'console', cliClientId: undefined, scopes: 'openid', resource: undefined });
    expect(c.jwt.issuer).toBe('https://idp.example.com/realms/x');
    expect(c.jwt.roles.claim).toBe('groups');
    expect([...c.jwt.roles.mapping!]).toEqual([['sec-oncall', ['responder', 'soc']]]);
    expect(c.devKeysPath).toBeUndefined();
    expect(() => loadControlPlaneConfig({ ...sso, LIVESCOPE_API_ROLE_MAPPING: '{"sec-oncall":"root"}' })).toThrow(/LIVESCOPE_API_ROLE_MAPPING.*unknown role "root"/s);
    expect(() => loadControlPlaneConfig({ ...sso, LIVESCOPE_API_OIDC_ISSUER: 'http://idp.example.com' })).toThrow(/LIVESCOPE_API_OIDC_ISSUER/);
    expect(() => loadControlPlaneConfig({ ...sso, LIVESCOPE_API_JWT_ISSUER: 'https://elsewhere' })).toThrow(/LIVESCOPE_API_JWT_ISSUER/);
    expect(() => loadControlPlaneConfig({ ...sso, LIVESCOPE_API_JWKS_URL: 'https://idp.example.com/jwks' })).toThrow(/exclusive/);
    expect(() => loadControlPlaneConfig({ ...P, LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_OIDC_CLI_CLIENT_ID: 'cli' })).toThrow(/need LIVESCOPE_API_OIDC_ISSUER/);
    expect(() => loadControlPlaneConfig({ ...sso, LIVESCOPE_API_ROLES_CLAIM: 'a..b' })).toThrow(/LIVESCOPE_API_ROLES_CLAIM/);
  });

  it('has the edge limits: rate budgets, trusted proxies, streams per subject, idempotency retention', () => {
    const base = { ...P, LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }) };
    expect(loadControlPlaneConfig(base)).toMatchObject({
      rateLimitPerMinute: 600,
      rateLimitUnauthenticatedPerMinute: 120,
      rateLimitPublicPerMinute: 600,
      trustedProxies: [],
      sseMaxPerSubject: 8,
      idempotencyRetentionMs: 86_400_000,
    });
    expect(loadControlPlaneConfig({ ...base, LIVESCOPE_API_TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8,loopback' }).trustedProxies).toEqual(['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8', 'loopback']);
    for (const bad of ['proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/1', 'fd00::/129']) expect(() => loadControlPlaneConfig({ ...base, LIVESCOPE_API_TRUSTED_PROXIES: bad }), bad).toThrow(/LIVESCOPE_API_TRUSTED_PROXIES/);
    expect(() => loadControlPlaneConfig({ ...base, LIVESCOPE_API_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0' })).toThrow(/LIVESCOPE_API_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE/);
    expect(() => loadControlPlaneConfig({ ...base, LIVESCOPE_API_IDEMPOTENCY_RETENTION_MS: '1000' })).toThrow(/LIVESCOPE_API_IDEMPOTENCY_RETENTION_MS/);
  });

  it('requires the producer key, naming both variables', () => {
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }) })).toThrow(/LIVESCOPE_PRODUCER_KEY_ID and LIVESCOPE_PRODUCER_KEY/);
    expect(() => loadControlPlaneConfig({ ...P, LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_PERSON_CLAIM: 'no-equals' })).toThrow(/LIVESCOPE_API_PERSON_CLAIM/);
  });

  it('names the failing variable', () => {
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_PORT: 'eighty' })).toThrow(/LIVESCOPE_API_PORT/);
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: '{"k": 42}' })).toThrow(/LIVESCOPE_API_JWT_PUBLIC_KEYS/);
    expect(() => loadControlPlaneConfig({ LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ k: x }), LIVESCOPE_API_JWKS_URL: 'not a url' })).toThrow(/LIVESCOPE_API_JWKS_URL/);
  });

  it('requires token keys, accepting the development key file only as a fallback', () => {
    expect(() => loadControlPlaneConfig({ ...P })).toThrow(ConfigError);
    expect(() => loadControlPlaneConfig({ ...P })).toThrow(/LIVESCOPE_API_JWT_PUBLIC_KEYS.*LIVESCOPE_API_JWKS_URL/);
    expect(loadControlPlaneConfig({ ...P, LIVESCOPE_DEV_KEYS: '/tmp/k.json' }).devKeysPath).toBe('/tmp/k.json');
    expect(loadControlPlaneConfig({ ...P, LIVESCOPE_DEV_KEYS: '/tmp/k.json', LIVESCOPE_API_JWKS_URL: 'http://127.0.0.1:9/jwks' }).devKeysPath).toBeUndefined();
  });

  it('docs/api.md shows the table generated from the options (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    expect(optionsBlock(doc, 'control-plane')).toBe(optionsTable(ownOptions(controlPlaneOptions, commonOptions)));
  });

  describe('files and secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the token keys from LIVESCOPE_API_JWT_PUBLIC_KEYS_FILE and the Kafka password from its file, which stays hidden', () => {
      const keys = join(dir, 'keys.json');
      const pw = join(dir, 'pw');
      writeFileSync(keys, JSON.stringify({ k2: x }));
      writeFileSync(pw, 'cp-kafka-secret\n');
      const c = loadControlPlaneConfig({
        ...P,
        LIVESCOPE_API_JWT_PUBLIC_KEYS_FILE: keys,
        LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        LIVESCOPE_KAFKA_SASL_USERNAME: 'control-plane',
        LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: pw,
      });
      expect(c.jwt.keys.map((k) => k.kid)).toEqual(['k2']);
      expect(kafkaConnection(c).sasl).toMatchObject({ username: 'control-plane', password: 'cp-kafka-secret' });
      expect(JSON.stringify(c)).not.toContain('cp-kafka-secret');
      expect(Object.keys(c)).not.toContain('kafkaSaslPassword');
    });
  });
});
