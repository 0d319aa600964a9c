import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonOptions, ConfigError, int, kafkaConnection, loadConfig, option, optionsBlock, optionsTable, registryAuth, replaceOptionsBlock } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'livescope-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};

describe('loadConfig with the common options', () => {
  it('has loopback, plaintext defaults', () => {
    const c = loadConfig(commonOptions, {});
    expect(c).toMatchObject({ brokers: ['127.0.0.1:9092'], kafkaSsl: false, registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7', pgSchema: 'livescope', topicPrefix: '', logLevel: 'info' });
    expect(c.pgUrl).toBe('postgres://postgres@127.0.0.1:5432/livescope');
    expect(kafkaConnection(c)).toEqual({ brokers: ['127.0.0.1:9092'] });
  });

  it('reads TLS and SASL, the password from a file (one trailing newline dropped)', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const pw = file('pw', 'hunter2-very-secret\n');
    const c = loadConfig(commonOptions, {
      LIVESCOPE_KAFKA_BROKERS: 'b1:9094, b2:9094',
      LIVESCOPE_KAFKA_SSL: 'true',
      LIVESCOPE_KAFKA_SSL_CA_FILE: ca,
      LIVESCOPE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      LIVESCOPE_KAFKA_SASL_USERNAME: 'scope-worker',
      LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: pw,
    });
    const conn = kafkaConnection(c);
    expect(conn.brokers).toEqual(['b1:9094', 'b2:9094']);
    expect(conn.ssl).toEqual({ caFile: ca });
    expect(conn.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'scope-worker' });
    expect(conn.sasl?.password).toBe('hunter2-very-secret');
  });

  it('never shows a secret: not in JSON, not in inspect, not in spread copies, not in error messages', () => {
    const c = loadConfig(commonOptions, { LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-256', LIVESCOPE_KAFKA_SASL_USERNAME: 'u', LIVESCOPE_KAFKA_SASL_PASSWORD: 'hunter2', LIVESCOPE_PG_URL: 'postgres://u:pgsecret@db/x', LIVESCOPE_REGISTRY_USERNAME: 'r', LIVESCOPE_REGISTRY_PASSWORD: 'regsecret' });
    expect(c.kafkaSaslPassword).toBe('hunter2');
    expect(c.pgUrl).toBe('postgres://u:pgsecret@db/x');
    const conn = kafkaConnection(c);
    const auth = registryAuth(c);
    expect(auth.password).toBe('regsecret');
    for (const shown of [JSON.stringify(c), inspect(c, { depth: 5 }), JSON.stringify({ ...c }), JSON.stringify(conn), inspect(conn), JSON.stringify(auth)]) {
      expect(shown).not.toMatch(/hunter2|pgsecret|regsecret/);
    }
    expect(() => loadConfig(commonOptions, { LIVESCOPE_KAFKA_SASL_MECHANISM: 'gssapi', LIVESCOPE_KAFKA_SASL_USERNAME: 'u', LIVESCOPE_KAFKA_SASL_PASSWORD: 'hunter2' })).toThrow(/LIVESCOPE_KAFKA_SASL_MECHANISM/);
    try {
      loadConfig(commonOptions, { LIVESCOPE_KAFKA_SASL_MECHANISM: 'gssapi', LIVESCOPE_KAFKA_SASL_USERNAME: 'u', LIVESCOPE_KAFKA_SASL_PASSWORD: 'hunter2' });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('hunter2');
    }
  });

  it('names every variable at fault in one ConfigError', () => {
    let err: unknown;
    try {
      loadConfig(commonOptions, { LIVESCOPE_KAFKA_SSL: 'yes', LIVESCOPE_PG_SCHEMA: 'Robert"); DROP', LIVESCOPE_REGISTRY_URL: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(ConfigError.is(err)).toBe(true);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variables).toEqual(['LIVESCOPE_KAFKA_SSL', 'LIVESCOPE_REGISTRY_URL', 'LIVESCOPE_PG_SCHEMA']);
    expect((err as ConfigError).message).toMatch(/LIVESCOPE_PG_SCHEMA: must be a lower-case SQL name/);
    expect((err as ConfigError).code).toBe('CONFIG');
  });

  it('checks options against each other', () => {
    const ca = file('ca2.pem', 'x');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ LIVESCOPE_KAFKA_SSL_CA_FILE: ca }, /LIVESCOPE_KAFKA_SSL_CA_FILE: is set, but LIVESCOPE_KAFKA_SSL is not true/],
      [{ LIVESCOPE_KAFKA_SSL: 'true', LIVESCOPE_KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }, /LIVESCOPE_KAFKA_SSL_CA_FILE: no readable file/],
      [{ LIVESCOPE_KAFKA_SSL: 'true', LIVESCOPE_KAFKA_SSL_CERT_FILE: ca }, /LIVESCOPE_KAFKA_SSL_CERT_FILE: is set without LIVESCOPE_KAFKA_SSL_KEY_FILE/],
      [{ LIVESCOPE_KAFKA_SASL_MECHANISM: 'scram-sha-512' }, /LIVESCOPE_KAFKA_SASL_USERNAME: is required[\s\S]*LIVESCOPE_KAFKA_SASL_PASSWORD: is required/],
      [{ LIVESCOPE_KAFKA_SASL_USERNAME: 'u' }, /LIVESCOPE_KAFKA_SASL_USERNAME: is set without LIVESCOPE_KAFKA_SASL_MECHANISM/],
      [{ LIVESCOPE_KAFKA_SASL_MECHANISM: 'plain', LIVESCOPE_KAFKA_SASL_USERNAME: 'u', LIVESCOPE_KAFKA_SASL_PASSWORD: 'p' }, /plain sends the password in clear text/],
      [{ LIVESCOPE_REGISTRY_USERNAME: 'u' }, /LIVESCOPE_REGISTRY_USERNAME: is set without LIVESCOPE_REGISTRY_PASSWORD/],
      [{ LIVESCOPE_REGISTRY_CA_FILE: ca }, /LIVESCOPE_REGISTRY_CA_FILE: is set, but LIVESCOPE_REGISTRY_URL is not an https URL/],
      [{ LIVESCOPE_KAFKA_SASL_PASSWORD: 'a', LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: ca }, /both LIVESCOPE_KAFKA_SASL_PASSWORD and LIVESCOPE_KAFKA_SASL_PASSWORD_FILE are set/],
      [{ LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope') }, /LIVESCOPE_KAFKA_SASL_PASSWORD_FILE: cannot read .*nope \(ENOENT\)/],
    ];
    for (const [env, message] of cases) expect(() => loadConfig(commonOptions, env), JSON.stringify(env)).toThrow(message);
  });

  it('refuses a secret file it may not read', () => {
    const p = file('locked', 'x');
    chmodSync(p, 0o000);
    // root reads any file: the check is only meaningful for other users.
    if (process.getuid?.() !== 0) expect(() => loadConfig(commonOptions, { LIVESCOPE_PG_URL_FILE: p })).toThrow(/LIVESCOPE_PG_URL_FILE: cannot read/);
  });
});

describe('option and optionsTable', () => {
  const spec = {
    waitMs: option('LIVESCOPE_X_WAIT_MS', int(0, 1000).default(250), { doc: 'how long to wait', unit: 'ms' }),
    token: option('LIVESCOPE_X_TOKEN', z.string().optional(), { doc: 'bearer token', unit: 'secret', secret: true }),
    id: option('LIVESCOPE_X_ID', z.string().default('computed'), { doc: 'instance name', defaultDoc: '`<hostname>-<pid>`' }),
  };

  it('derives the type and defaults from the spec', () => {
    const c = loadConfig(spec, { LIVESCOPE_X_TOKEN: 't' });
    const waitMs: number = c.waitMs;
    expect(waitMs).toBe(250);
    expect(Object.keys(c)).toEqual(['waitMs', 'id']);
  });

  it('renders one row per option with unit and default, secrets with their _FILE variant', () => {
    expect(optionsTable(spec).split('\n')).toEqual([
      '| variable | default | unit | meaning |',
      '|---|---|---|---|',
      '| `LIVESCOPE_X_WAIT_MS` | `250` | ms | how long to wait |',
      '| `LIVESCOPE_X_TOKEN` or `_FILE` | — | secret | bearer token |',
      '| `LIVESCOPE_X_ID` | `<hostname>-<pid>` |  | instance name |',
    ]);
  });

  it('replaces and reads a marked block in a document', () => {
    const doc = 'intro\n<!-- options:x -->\nold\n<!-- /options:x -->\nrest\n';
    const next = replaceOptionsBlock(doc, 'x', 'NEW');
    expect(next).toBe('intro\n<!-- options:x -->\nNEW\n<!-- /options:x -->\nrest\n');
    expect(optionsBlock(next, 'x')).toBe('NEW');
    expect(() => replaceOptionsBlock(doc, 'y', 'T')).toThrow(/no <!-- options:y -->/);
  });

  it('insists on LIVESCOPE_ names, and no _FILE_FILE', () => {
    expect(() => option('OTHER', z.string(), { doc: '' })).toThrow();
    expect(() => option('LIVESCOPE_A_FILE', z.string(), { doc: '', secret: true })).toThrow();
    expect(option('LIVESCOPE_A_FILE', z.string(), { doc: '' }).variable).toBe('LIVESCOPE_A_FILE');
  });
});
