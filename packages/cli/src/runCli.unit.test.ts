import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateDevApiKey, parseTrustedKey, TokenVerifier } from '@livescope/control-plane';
import { runCli } from './runCli.js';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env }, out, err };
}

describe('livescope CLI (no network)', () => {
  it('mints a development token, adding an api key pair to the key file and keeping what was there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'livescope-cli-'));
    const keys = join(dir, 'dev-keys.json');
    writeFileSync(keys, JSON.stringify({ signing: { kid: 'dev-1' } }));
    const t = io({ LIVESCOPE_DEV_KEYS: keys });
    expect(await runCli(['token', '--role', 'responder', 'soc', '--sub', 'alice', '--ttl', '10m'], t.io)).toBe(0);
    expect(t.err.join('')).toMatch(/development-only/);
    const file = JSON.parse(readFileSync(keys, 'utf8')) as { signing: unknown; api: { kid: string; publicKey: string } };
    expect(file.signing).toEqual({ kid: 'dev-1' });
    const v = new TokenVerifier({ keys: [parseTrustedKey(file.api.kid, file.api.publicKey)], issuer: 'livescope', audience: 'livescope-api', clockToleranceMs: 0 });
    const p = await v.verify(`Bearer ${t.out.join('').trim()}`);
    expect(p).toMatchObject({ sub: 'alice', roles: new Set(['responder', 'soc']), person: true });
    // The control plane, reading the file with its own code, trusts the pair the CLI added.
    expect(loadOrCreateDevApiKey(keys)).toEqual(file.api);
  });

  it('exits 2 on usage errors', async () => {
    expect(await runCli(['quarantine', 'w1'], io().io)).toBe(2);
    expect(await runCli(['narrow', '--reason', 'x'], io().io)).toBe(2);
    expect(await runCli(['frobnicate'], io().io)).toBe(2);
    expect(await runCli(['token', '--role', 'root', '--sub', 'a'], io().io)).toBe(2);
    expect(await runCli(['quarantine', 'w1', '--reason', 'x', '--ttl', 'soon'], io().io)).toBe(2);
  });

  it('takes --version after a command as that command\'s option, not the CLI\'s version (regression: scope --version N printed 0.1.0)', async () => {
    const t = io({ LIVESCOPE_API_URL: 'http://127.0.0.1:9' });
    expect(await runCli(['--json', 'scope', 'w1', '--version', '1'], t.io)).toBe(1);
    expect(t.out.join('')).toBe('');
    expect(t.err.join('')).toMatch(/cannot reach the API/);
    const v = io();
    expect(await runCli(['--version'], v.io)).toBe(0);
    expect(v.out.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('sends an order with an idempotency key and sends it again, under the same key, after a 503', async () => {
    const calls: { key: string | null; body: string }[] = [];
    const accepted = { orderId: 'o-1', eventId: 'cp-1', kind: 'quarantine', actor: 'alice', target: { identityId: 'w1' }, expiresAt: null, acceptedAt: '2026-01-01T00:00:00.000Z', partitions: 3, statusUrl: '/v1/orders/o-1/status' };
    const answers = [
      new Response(JSON.stringify({ code: 'UNAVAILABLE', detail: 'order o-1 is recorded but Kafka did not confirm its publication in time; it may still be written', component: 'kafka', correlationId: 'c-1' }), { status: 503, headers: { 'retry-after': '0' } }),
      new Response(JSON.stringify({ code: 'RATE_LIMITED', detail: 'rate limit exceeded' }), { status: 429, headers: { 'retry-after': '0' } }),
      new Response(JSON.stringify(accepted), { status: 202, headers: { 'idempotent-replayed': 'true' } }),
    ];
    const fetchImpl = ((_url: string, init: RequestInit) => {
      calls.push({ key: new Headers(init.headers).get('idempotency-key'), body: init.body as string });
      return Promise.resolve(answers.shift()!);
    }) as typeof fetch;
    const t = io({ LIVESCOPE_API_URL: 'http://api.test' });
    expect(await runCli(['--json', 'quarantine', 'w1', '--reason', 'INC-1'], { ...t.io, fetch: fetchImpl })).toBe(0);
    expect(JSON.parse(t.out.join(''))).toEqual(accepted);
    expect(calls).toHaveLength(3);
    expect(calls[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);
    expect(new Set(calls.map((c) => c.body)).size).toBe(1);
    const err = t.err.join('');
    expect(err).toContain(`sending it again with the same idempotency key ${calls[0]!.key} in 0.0 s (attempt 2 of 4)`);
    expect(err).toContain('(correlation id c-1)');
  });

  it('gives up after its attempts, naming the key to retry with, and never retries a refusal', async () => {
    let n = 0;
    const unavailable = (() => {
      n++;
      return Promise.resolve(new Response(JSON.stringify({ code: 'UNAVAILABLE', detail: 'Kafka unavailable; retry later' }), { status: 503, headers: { 'retry-after': '0' } }));
    }) as typeof fetch;
    const t = io({ LIVESCOPE_API_URL: 'http://api.test' });
    expect(await runCli(['lift', 'o-1', '--idempotency-key', 'my-key-1'], { ...t.io, fetch: unavailable })).toBe(1);
    expect(n).toBe(4);
    expect(t.err.join('')).toContain('gave up; to get this same request\'s answer (never a second one), run the command again with --idempotency-key my-key-1');
    let m = 0;
    const conflict = (() => {
      m++;
      return Promise.resolve(new Response(JSON.stringify({ code: 'IDEMPOTENCY_KEY_REUSED', detail: 'Idempotency-Key k was used for another request' }), { status: 422 }));
    }) as typeof fetch;
    const c = io({ LIVESCOPE_API_URL: 'http://api.test' });
    expect(await runCli(['narrow', 'w1', '--reason', 'x', '--idempotency-key', 'k'], { ...c.io, fetch: conflict })).toBe(1);
    expect(m).toBe(1);
    expect(c.err.join('')).toContain('was used for another request');
  });

  it('exits 1 when the API cannot be reached', async () => {
    const t = io({ LIVESCOPE_API_URL: 'http://127.0.0.1:9' });
    expect(await runCli(['orders'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/cannot reach the API/);
  });
});
