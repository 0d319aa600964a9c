import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subjectSpecsFor } from '@livescope/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from './SchemaRegistryClient.js';
import { TransportError } from './TransportError.js';

/**
 * The registry as deployments put it: behind TLS with a private CA and HTTP basic auth. A local
 * HTTPS front (a certificate made by openssl for 127.0.0.1) checks the credentials and passes the
 * request to the real Apicurio Registry of the test infrastructure.
 */
const upstream = new URL(process.env.LIVESCOPE_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7');
const USER = 'livescope';
const PASSWORD = `pw-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'registry-tls-'));
let server: Server;
let url: string;
let seen = { authorized: 0, refused: 0 };

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'ca.pem'), '-days', '1', '-subj', '/CN=registry test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'ca.pem')) }, (req, res) => {
    if (req.headers.authorization !== expected) {
      seen.refused++;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"', 'content-type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}');
      return;
    }
    seen.authorized++;
    const { authorization: _a, host: _h, ...headers } = req.headers;
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: `${upstream.pathname}${req.url?.slice(upstream.pathname.length) ?? ''}`, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('SchemaRegistryClient with basic auth and a private CA', () => {
  it('registers, lists and pings through TLS with the credentials', async () => {
    seen = { authorized: 0, refused: 0 };
    const specs = subjectSpecsFor(`t${randomUUID().slice(0, 8)}.`).slice(0, 2);
    const client = new SchemaRegistryClient(url, { username: USER, password: PASSWORD, caFile: join(dir, 'ca.pem') });
    const registered = await client.registerAll(specs);
    for (const spec of specs) {
      const id = registered.get(spec.subject)!.id;
      expect((await client.loadSubjectIds(spec.subject)).has(id)).toBe(true);
    }
    await client.ping();
    expect(seen.authorized).toBeGreaterThan(specs.length);
    expect(seen.refused).toBe(0);
    client.close();
    for (const spec of specs) await fetch(`${upstream.href}/subjects/${encodeURIComponent(spec.subject)}`, { method: 'DELETE' });
  });

  it('without the credentials, the registry refuses (fatal, not retried)', async () => {
    const client = new SchemaRegistryClient(url, { caFile: join(dir, 'ca.pem') });
    const e = await client.ping().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(TransportError.is(e) && e.code === 'REGISTRY_REJECTED' && e.classification === 'fatal').toBe(true);
    expect((e as Error).message).toMatch(/401/);
    client.close();
  });

  it('without the CA, the certificate is not trusted, and the error says which variable gives it', async () => {
    const client = new SchemaRegistryClient(url, { username: USER, password: PASSWORD });
    const e = await client.ping().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(TransportError.is(e) && e.classification === 'fatal').toBe(true);
    expect((e as Error).message).toMatch(/not trusted .*LIVESCOPE_REGISTRY_CA_FILE/);
    client.close();
  });

  it('refuses a CA file for an http URL, and credentials without a password', () => {
    expect(() => new SchemaRegistryClient(upstream.href, { caFile: join(dir, 'ca.pem') })).toThrow(/not https/);
    expect(() => new SchemaRegistryClient(url, { username: USER })).toThrow(/both a username and a password/);
  });
});
