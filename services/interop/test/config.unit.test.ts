import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { commonOptions, ConfigError, kafkaConnection, optionsBlock, optionsTable, ownOptions } from '@livescope/runtime';
import { generateSigningKeyPair } from '@livescope/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestOptions, interopOptions, loadIngestConfig, loadInteropConfig } from '../src/config.js';
import { producerIdentity } from '../src/producerIdentity.js';
import { readSecretFile } from '../src/secretFile.js';

const keys = JSON.stringify([{ kid: 'k1', alg: 'RS256', privateKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' }]);
const base = { LIVESCOPE_SSF_SIGNING_KEYS: keys, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{"w1":"abc"}' };

describe('livescope-interop configuration', () => {
  it('has defaults for everything but the keys', () => {
    const c = loadInteropConfig(base);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8470, defaultSubjects: 'ALL', sessionSubjects: 'complex', pushMaxAttempts: 10, consumeFromBeginning: false, receiverClients: [], trustedIssuers: [] });
    expect([...c.features]).toEqual(['transmitter', 'receiver', 'ocsf']);
  });
  it('names the variable that is wrong', () => {
    expect(() => loadInteropConfig({})).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_COMMAND_PUBLIC_KEYS: '{}' })).toThrow(/LIVESCOPE_COMMAND_PUBLIC_KEYS is required/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_PORT: 'eighty' })).toThrow(/LIVESCOPE_INTEROP_PORT/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_RECEIVER_CLIENTS: '[{"clientId":"a","token":"short","audience":"x"}]' })).toThrow(/LIVESCOPE_SSF_RECEIVER_CLIENTS: 0.token/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_TRUSTED_ISSUERS: '[{"issuer":"https://idp","audience":["a"]}]' })).toThrow(/needs exactly one of jwks and jwksUri/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_INTEROP_ENABLE: 'transmitter,magic' })).toThrow(/unknown feature magic/);
    expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_SIGNING_KEYS: 'not json' })).toThrow(/LIVESCOPE_SSF_SIGNING_KEYS: is not JSON/);
  });
  it('a receiver-only deployment needs no signing keys', () => {
    expect([...loadInteropConfig({ LIVESCOPE_INTEROP_ENABLE: 'receiver' }).features]).toEqual(['receiver']);
  });

  describe('producer key (LIVESCOPE_PRODUCER_KEY_ID, LIVESCOPE_PRODUCER_KEY or _FILE, LIVESCOPE_PRODUCER_EVENT_TYPES)', () => {
    const key = generateSigningKeyPair('ingest-1');
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the producer key (inline or from a file) and the types it may send; without one, no control type is allowed', () => {
      writeFileSync(join(dir, 'key'), `${key.privateKey}\n`);
      const inline = producerIdentity(loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey, LIVESCOPE_PRODUCER_EVENT_TYPES: 'entitlement.*,identity.deleted' }));
      expect(inline.keyId).toBe('ingest-1');
      expect([inline.allows('entitlement.granted'), inline.allows('identity.deleted'), inline.allows('policies.published')]).toEqual([true, true, false]);
      const fromFile = producerIdentity(loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY_FILE: join(dir, 'key') }));
      expect(fromFile.signer).toBeDefined();
      expect(fromFile.allows('policies.published')).toBe(true); // default `*`
      const none = producerIdentity(loadIngestConfig({}));
      expect([none.signer, none.allows('entitlement.granted')]).toEqual([undefined, false]);
      expect(loadInteropConfig({ ...base, LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey }).producer.keyId).toBe('ingest-1');
      expect(loadInteropConfig(base).producer.allows('identity.disabled')).toBe(false);
    });

    it('names the producer variable that is wrong, and never quotes the key', () => {
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY: key.privateKey })).toThrow(/LIVESCOPE_PRODUCER_KEY_ID: is required with LIVESCOPE_PRODUCER_KEY/);
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1' })).toThrow(/LIVESCOPE_PRODUCER_KEY_ID: is set without LIVESCOPE_PRODUCER_KEY/);
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'has space', LIVESCOPE_PRODUCER_KEY: key.privateKey })).toThrow(/LIVESCOPE_PRODUCER_KEY_ID: must be 1 to 128 printable/);
      const notAKey = 'not-a-key-but-a-secret-looking-string';
      let thrown: unknown;
      try {
        loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'x', LIVESCOPE_PRODUCER_KEY: notAKey });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toMatch(/LIVESCOPE_PRODUCER_KEY: not an Ed25519 private key/);
      expect((thrown as ConfigError).message).not.toContain(notAKey);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'x', LIVESCOPE_PRODUCER_KEY: rsa })).toThrow(/LIVESCOPE_PRODUCER_KEY: not an Ed25519 private key .*a rsa key/);
      // The runtime's <VARIABLE>_FILE rules: one of the two, and a file that can be read.
      writeFileSync(join(dir, 'key'), `${key.privateKey}\n`);
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'x', LIVESCOPE_PRODUCER_KEY: key.privateKey, LIVESCOPE_PRODUCER_KEY_FILE: join(dir, 'key') })).toThrow(/both LIVESCOPE_PRODUCER_KEY and LIVESCOPE_PRODUCER_KEY_FILE are set/);
      expect(() => loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'x', LIVESCOPE_PRODUCER_KEY_FILE: join(dir, 'missing') })).toThrow(/LIVESCOPE_PRODUCER_KEY_FILE: cannot read/);
    });

    it('keeps the key out of JSON, logs and inspect', () => {
      const c = loadInteropConfig({ ...base, LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey });
      const i = loadIngestConfig({ LIVESCOPE_PRODUCER_KEY_ID: 'ingest-1', LIVESCOPE_PRODUCER_KEY: key.privateKey });
      for (const shown of [JSON.stringify(c), inspect(c), JSON.stringify(i), inspect(i)]) {
        expect(shown).not.toContain(key.privateKey);
        expect(shown).toContain('ingest-1');
      }
    });
  });

  describe('OAuth clients and poll streams (secrets inline, from a file named inside the JSON, or the whole variable from _FILE)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads OAuth clients (secret inline or from a file) and poll streams', () => {
      writeFileSync(join(dir, 'secret'), 'file-secret-0123456789\n');
      const c = loadInteropConfig({
        ...base,
        LIVESCOPE_SSF_OAUTH_CLIENTS: JSON.stringify([
          { clientId: 'a', clientSecret: 'inline-secret-0123456789', audience: 'https://a' },
          { clientId: 'b', clientSecretFile: join(dir, 'secret'), audience: 'https://b' },
        ]),
        LIVESCOPE_SSF_POLL_STREAMS: JSON.stringify([
          { transmitter: 'https://tx.example', clientId: 'rx', clientSecret: 's', audience: 'https://rx' },
          { transmitter: 'https://tx2.example', clientId: 'rx', clientSecretFile: join(dir, 'secret'), audience: 'https://rx' },
        ]),
      });
      expect(c.oauthClients.map((o) => o.clientSecret)).toEqual(['inline-secret-0123456789', 'file-secret-0123456789']);
      expect(c.oauthClients[1]).not.toHaveProperty('clientSecretFile');
      expect(c.accessTokenTtlSec).toBe(3600);
      expect(c.pollStreams[0]).toMatchObject({ transmitter: 'https://tx.example', maxEvents: 100, description: 'livescope poll receiver', identityTemplate: '{value}' });
      expect(c.pollStreams[1]).toMatchObject({ transmitter: 'https://tx2.example', clientSecret: 'file-secret-0123456789' });
      const shown = `${JSON.stringify(c)}${inspect(c)}`;
      for (const secret of ['inline-secret', 'file-secret']) expect(shown).not.toContain(secret);
    });

    it('names the client or stream whose secret is wrong', () => {
      const oauth = (clients: unknown[]) => () => loadInteropConfig({ ...base, LIVESCOPE_SSF_OAUTH_CLIENTS: JSON.stringify(clients) });
      expect(oauth([{ clientId: 'a', audience: 'x' }])).toThrow(/client a: needs a clientSecret/);
      expect(oauth([{ clientId: 'a', clientSecret: 'short', audience: 'x' }])).toThrow(/LIVESCOPE_SSF_OAUTH_CLIENTS: 0\.clientSecret: client a: the clientSecret must be at least 16 characters/);
      expect(oauth([{ clientId: 'a', clientSecretFile: join(dir, 'missing'), audience: 'x' }])).toThrow(/LIVESCOPE_SSF_OAUTH_CLIENTS: 0\.clientSecretFile: client a: cannot read .*missing \(ENOENT\)/);
      writeFileSync(join(dir, 'short'), 'short\n');
      expect(oauth([{ clientId: 'a', clientSecretFile: join(dir, 'short'), audience: 'x' }])).toThrow(/client a: the secret in .*short must be at least 16 characters/);
      expect(oauth([{ clientId: 'a', clientSecret: 'inline-secret-0123456789', clientSecretFile: join(dir, 'short'), audience: 'x' }])).toThrow(/client a: both clientSecret and clientSecretFile are given/);
      expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_POLL_STREAMS: JSON.stringify([{ transmitter: 'https://tx.example', audience: 'https://rx' }]) })).toThrow(/LIVESCOPE_SSF_POLL_STREAMS: 0: transmitter https:\/\/tx\.example: give bearerToken, or clientId and clientSecret/);
      expect(() => loadInteropConfig({ ...base, LIVESCOPE_SSF_ACCESS_TOKEN_TTL_S: '10' })).toThrow(/LIVESCOPE_SSF_ACCESS_TOKEN_TTL_S/);
    });

    it('reads the whole JSON from LIVESCOPE_SSF_OAUTH_CLIENTS_FILE / LIVESCOPE_SSF_POLL_STREAMS_FILE', () => {
      writeFileSync(join(dir, 'clients.json'), JSON.stringify([{ clientId: 'a', clientSecret: 'inline-secret-0123456789', audience: 'https://a' }]));
      writeFileSync(join(dir, 'streams.json'), JSON.stringify([{ transmitter: 'https://tx.example', bearerToken: 'static-bearer-0123456789', audience: 'https://rx' }]));
      const c = loadInteropConfig({ ...base, LIVESCOPE_SSF_OAUTH_CLIENTS_FILE: join(dir, 'clients.json'), LIVESCOPE_SSF_POLL_STREAMS_FILE: join(dir, 'streams.json') });
      expect(c.oauthClients[0]?.clientSecret).toBe('inline-secret-0123456789');
      expect(c.pollStreams[0]?.bearerToken).toBe('static-bearer-0123456789');
    });
  });

  it('readSecretFile drops one trailing newline and refuses an empty or unreadable file without quoting it', () => {
    expect(readSecretFile('x', () => 'secret-value\n')).toBe('secret-value');
    expect(() => readSecretFile('/run/secrets/empty', () => '\n')).toThrow(/\/run\/secrets\/empty is empty/);
    expect(() => readSecretFile('/nope', () => { throw Object.assign(new Error('nope'), { code: 'EACCES' }); })).toThrow(/cannot read \/nope \(EACCES\)/);
  });

  describe('livescope-ingest webhook authentication (LIVESCOPE_INGEST_TOKEN, LIVESCOPE_INGEST_HMAC_SECRET, or _FILE)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads them inline or from files, at least 16 characters, and keeps them out of logs', () => {
      writeFileSync(join(dir, 'hmac'), 'hmac-secret-0123456789\n');
      const c = loadIngestConfig({ LIVESCOPE_INGEST_TOKEN: 'ingest-token-0123456789', LIVESCOPE_INGEST_HMAC_SECRET_FILE: join(dir, 'hmac') });
      expect([c.ingestToken, c.ingestHmacSecret]).toEqual(['ingest-token-0123456789', 'hmac-secret-0123456789']);
      for (const shown of [JSON.stringify(c), inspect(c)]) for (const secret of ['ingest-token', 'hmac-secret']) expect(shown).not.toContain(secret);
      expect(loadIngestConfig({})).toMatchObject({ ingestToken: undefined, ingestHmacSecret: undefined });
      expect(() => loadIngestConfig({ LIVESCOPE_INGEST_TOKEN: 'short' })).toThrow(/LIVESCOPE_INGEST_TOKEN: must be at least 16 characters/);
      expect(() => loadIngestConfig({ LIVESCOPE_INGEST_HMAC_SECRET: 'short' })).toThrow(/LIVESCOPE_INGEST_HMAC_SECRET: must be at least 16 characters/);
    });
  });

  it('docs/adapters.md shows the livescope-ingest table generated from the options (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../../docs/adapters.md', import.meta.url), 'utf8');
    expect(optionsBlock(doc, 'ingest')).toBe(optionsTable(ownOptions(ingestOptions, commonOptions)));
  });

  it('throws the one ConfigError of @livescope/runtime', () => {
    expect(() => loadInteropConfig({})).toThrow(ConfigError);
  });

  it('docs/caep.md shows the table generated from the options (npm run docs:config)', () => {
    const doc = readFileSync(new URL('../../../docs/caep.md', import.meta.url), 'utf8');
    expect(optionsBlock(doc, 'interop')).toBe(optionsTable(ownOptions(interopOptions, commonOptions)));
  });

  describe('secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'interop-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads them from <VARIABLE>_FILE and keeps them out of JSON and logs', () => {
      const keyFile = join(dir, 'ssf-keys.json');
      writeFileSync(keyFile, keys);
      const c = loadInteropConfig({
        LIVESCOPE_SSF_SIGNING_KEYS_FILE: keyFile,
        LIVESCOPE_COMMAND_PUBLIC_KEYS: '{"w1":"abc"}',
        LIVESCOPE_SSF_RECEIVER_CLIENTS: JSON.stringify([{ clientId: 'gw', token: 'receiver-token-0123456789', audience: 'a' }]),
        LIVESCOPE_OCSF_WEBHOOK_AUTHORIZATION: 'Splunk siem-secret-token',
      });
      expect(c.signingKeys.map((k) => k.kid)).toEqual(['k1']);
      expect(c.receiverClients[0]?.token).toBe('receiver-token-0123456789');
      expect(c.ocsfWebhookAuthorization).toBe('Splunk siem-secret-token');
      const shown = JSON.stringify(c);
      for (const secret of ['PRIVATE KEY', 'receiver-token', 'siem-secret']) expect(shown).not.toContain(secret);
      expect(shown).toContain('"port":8470');
    });
  });

  it('livescope-ingest reads the connection (TLS, SASL), quieter by default', () => {
    const c = loadIngestConfig({ LIVESCOPE_KAFKA_SSL: 'true', LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-256', LIVESCOPE_KAFKA_SASL_USERNAME: 'interop', LIVESCOPE_KAFKA_SASL_PASSWORD: 'p' });
    expect(c.logLevel).toBe('warn');
    expect(kafkaConnection(c)).toMatchObject({ brokers: ['127.0.0.1:9092'], ssl: {}, sasl: { mechanism: 'scram-sha-256', username: 'interop' } });
  });
});
