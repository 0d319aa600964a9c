import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { commonOptions, ConfigError as RuntimeConfigError, kafkaConnection, optionsBlock, optionsTable, ownOptions, registryAuth } from '@livescope/runtime';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig, workerOptions } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'worker-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SEED = 'x'.repeat(43);
const base = { LIVESCOPE_SIGNING_KEY_ID: 'k1', LIVESCOPE_SIGNING_KEY: SEED };

describe('worker configuration', () => {
  it('README.md shows the tables generated from the options (npm run docs:config)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(optionsBlock(readme, 'common')).toBe(optionsTable(commonOptions));
    expect(optionsBlock(readme, 'scope-worker')).toBe(optionsTable(ownOptions(workerOptions, commonOptions)));
  });

  it('reads the signing key from LIVESCOPE_SIGNING_KEY_FILE and never shows it', () => {
    const keyFile = join(dir, 'signing.key');
    writeFileSync(keyFile, `${SEED}\n`, { mode: 0o600 });
    const c = loadWorkerConfig({ LIVESCOPE_SIGNING_KEY_ID: 'k1', LIVESCOPE_SIGNING_KEY_FILE: keyFile, LIVESCOPE_PG_URL: 'postgres://w:pgpass@db/x' });
    expect(c.signingKey).toBe(SEED);
    expect(JSON.stringify(c)).not.toContain(SEED);
    expect(JSON.stringify(c)).not.toContain('pgpass');
    const lines: string[] = [];
    const log = pino(new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
    log.info({ config: c }, 'configuration');
    expect(lines.join('')).toContain('"signingKeyId":"k1"');
    expect(lines.join('')).not.toContain(SEED);
  });

  it('connects with TLS and SCRAM from the LIVESCOPE_KAFKA_* variables, the password from a file', () => {
    const ca = join(dir, 'ca.pem');
    const pw = join(dir, 'kafka.password');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    writeFileSync(pw, 's3cret-kafka\n', { mode: 0o600 });
    const c = loadWorkerConfig({
      ...base,
      LIVESCOPE_KAFKA_BROKERS: '127.0.0.1:9094',
      LIVESCOPE_KAFKA_SSL: 'true',
      LIVESCOPE_KAFKA_SSL_CA_FILE: ca,
      LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      LIVESCOPE_KAFKA_SASL_USERNAME: 'scope-worker',
      LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: pw,
      LIVESCOPE_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7',
      LIVESCOPE_REGISTRY_USERNAME: 'livescope',
      LIVESCOPE_REGISTRY_PASSWORD: 's3cret-registry',
      LIVESCOPE_REGISTRY_CA_FILE: ca,
    });
    const k = kafkaConnection(c);
    expect(k).toMatchObject({ brokers: ['127.0.0.1:9094'], ssl: { caFile: ca }, sasl: { mechanism: 'scram-sha-512', username: 'scope-worker' } });
    expect(k.sasl?.password).toBe('s3cret-kafka');
    expect(registryAuth(c)).toMatchObject({ username: 'livescope', caFile: ca });
    expect(registryAuth(c).password).toBe('s3cret-registry');
    expect(JSON.stringify([c, k, registryAuth(c)])).not.toMatch(/s3cret/);
  });

  it('throws the one ConfigError, naming the signing-key variables that are missing', () => {
    expect(ConfigError).toBe(RuntimeConfigError);
    let err: unknown;
    try {
      loadWorkerConfig({ LIVESCOPE_SIGNING_KEY_ID: 'k1' });
    } catch (e) {
      err = e;
    }
    expect(RuntimeConfigError.is(err)).toBe(true);
    expect((err as RuntimeConfigError).variables).toEqual(['LIVESCOPE_SIGNING_KEY']);
  });
});
