import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from './createLogger.js';
import { isSecretKey, redactSecrets } from './redactSecrets.js';

/** A livescope logger writing into an array: one parsed object per line. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  return { log: createLogger('test', 'debug', {}, sink), lines, text: () => JSON.stringify(lines) };
}

/** An error as HTTP clients throw it: the request's configuration, headers included, as fields. */
class HttpError extends Error {
  readonly code = 'ERR_BAD_RESPONSE';
  config = { url: 'https://registry.test/subjects', headers: { authorization: 'Basic dXNlcjpodW50ZXIy', 'x-api-key': 'k-123', accept: 'application/json' } };
  response = { status: 401, headers: { 'set-cookie': ['sid=abc'] }, data: { detail: 'no' } };
}

describe('isSecretKey', () => {
  it.each(['password', 'dbPassword', 'PASSWORD', 'passwd', 'passphrase', 'secret', 'clientSecret', 'client_secret', 'secrets', 'token', 'accessToken', 'refresh_token', 'id-token', 'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'cookies', 'privateKey', 'private_key', 'signingKey', 'apiKey', 'api_key', 'x-api-key', 'credentials', 'jwt', 'pgUrl', 'connectionString'])('%s names a secret', (k) => {
    expect(isSecretKey(k)).toBe(true);
  });
  it.each(['tokenId', 'secretPath', 'keyId', 'kid', 'publicKey', 'sessionId', 'identityId', 'value', 'key', 'url', 'message', 'author'])('%s does not', (k) => {
    expect(isSecretKey(k)).toBe(false);
  });
});

describe('redactSecrets', () => {
  it('redacts at any depth, in arrays too, and leaves the caller\'s object untouched', () => {
    const input = { a: { b: { c: { d: { e: { password: 'hunter2', keep: 1 } } } } }, list: [{ token: 't' }, { fine: true }], top: { Authorization: 'Bearer x' } };
    const out = redactSecrets(input);
    expect(out).toEqual({ a: { b: { c: { d: { e: { password: '[redacted]', keep: 1 } } } } }, list: [{ token: '[redacted]' }, { fine: true }], top: { Authorization: '[redacted]' } });
    expect(input.a.b.c.d.e.password).toBe('hunter2');
    expect(input.list[0]!.token).toBe('t');
  });

  it('returns the same objects when nothing is secret (no copy), and keeps null or absent secrets as they are', () => {
    const input = { a: { b: [1, 2, { c: 'x' }] }, token: null, password: undefined };
    expect(redactSecrets(input)).toBe(input);
  });

  it('survives cycles and very deep nesting', () => {
    const a: Record<string, unknown> = { secret: 's' };
    a.self = a;
    expect(redactSecrets(a)).toEqual({ secret: '[redacted]', self: '[Circular]' });
    let deep: Record<string, unknown> = { password: 'p' };
    for (let i = 0; i < 200; i++) deep = { next: deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain('"p"');
  });

  it('redacts through toJSON, and keeps dates and buffers', () => {
    const at = new Date(0);
    const buf = Buffer.from('x');
    expect(redactSecrets({ o: { toJSON: () => ({ apiKey: 'k' }) }, at, buf })).toEqual({ o: { apiKey: '[redacted]' }, at, buf });
  });

  it('copies an error with secrets as the same class, with only those fields redacted', () => {
    const e = new HttpError('request failed with status 401');
    const r = redactSecrets(e);
    expect(r).not.toBe(e);
    expect(r).toBeInstanceOf(HttpError);
    expect(r.message).toBe(e.message);
    expect(r.stack).toBe(e.stack);
    expect(r.config.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' });
    expect(e.config.headers.authorization).toBe('Basic dXNlcjpodW50ZXIy');
    const plain = new Error('plain');
    expect(redactSecrets(plain)).toBe(plain);
  });
});

describe('createLogger redaction (regression: a nested password or err.config.headers.authorization was logged in clear)', () => {
  it('redacts nested secrets in logged objects', () => {
    const c = capture();
    c.log.info({ config: { kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'hunter2' } }, pgUrl: 'postgres://u:pw@db/livescope' }, req: { headers: { cookie: 'sid=1', host: 'h' } } }, 'started');
    expect(c.lines[0]).toMatchObject({ msg: 'started', service: 'test', config: { kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u', password: '[redacted]' } }, pgUrl: '[redacted]' }, req: { headers: { cookie: '[redacted]', host: 'h' } } });
    expect(c.text()).not.toMatch(/hunter2|u:pw|sid=1/);
  });

  it('redacts a logged error\'s fields, as the first argument or under err, keeping its type, message and stack', () => {
    const c = capture();
    const e = new HttpError('request failed with status 401');
    c.log.error({ err: e }, 'registry call failed');
    c.log.error(e);
    c.log.warn({ attempt: 2, failures: [e] }, 'retrying');
    for (const line of c.lines) expect(JSON.stringify(line)).not.toMatch(/dXNlcjpodW50ZXIy|k-123|sid=abc/);
    expect(c.lines[0]!.err).toMatchObject({ type: 'HttpError', message: 'request failed with status 401', code: 'ERR_BAD_RESPONSE', config: { url: 'https://registry.test/subjects', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' } } });
    expect((c.lines[0]!.err as { stack: string }).stack).toContain('Error: request failed with status 401');
    expect(c.lines[1]).toMatchObject({ msg: 'request failed with status 401', err: { type: 'HttpError', config: { headers: { authorization: '[redacted]' } } } });
    expect(c.lines[2]).toMatchObject({ failures: [{ config: { headers: { authorization: '[redacted]' } } }] });
  });

  it('redacts child logger bindings and keeps the raw payload rule (value)', () => {
    const c = capture();
    c.log.child({ client: { apiKey: 'k-9', id: 'c1' } }).info({ message: { key: 'w1', value: 'raw bytes' } }, 'm');
    expect(c.lines[0]).toMatchObject({ client: { apiKey: '[redacted]', id: 'c1' }, message: { key: 'w1', value: '[redacted]' } });
  });

  it('does not modify what the caller logged', () => {
    const c = capture();
    const o = { nested: { token: 't-1' } };
    c.log.info(o);
    expect(o.nested.token).toBe('t-1');
    expect(c.lines[0]).toMatchObject({ nested: { token: '[redacted]' } });
  });

  it('keeps pino\'s own levels and fields', () => {
    const c = capture();
    c.log.debug('d');
    expect(c.lines[0]).toMatchObject({ level: pino.levels.values.debug, msg: 'd', name: 'test' });
  });
});
