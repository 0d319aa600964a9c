import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonOptions, ConfigError, kafkaConnection, optionsBlock, optionsTable, ownOptions } from '@livescope/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { interopOptions, loadIngestConfig, loadInteropConfig } from '../src/config.js';

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

  it('livescope-ingest reads the connection only, quieter by default', () => {
    const c = loadIngestConfig({ LIVESCOPE_KAFKA_SSL: 'true', LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-256', LIVESCOPE_KAFKA_SASL_USERNAME: 'interop', LIVESCOPE_KAFKA_SASL_PASSWORD: 'p' });
    expect(c.logLevel).toBe('warn');
    expect(kafkaConnection(c)).toMatchObject({ brokers: ['127.0.0.1:9092'], ssl: {}, sasl: { mechanism: 'scram-sha-256', username: 'interop' } });
  });
});
