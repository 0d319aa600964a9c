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

  it('exits 1 when the API cannot be reached', async () => {
    const t = io({ LIVESCOPE_API_URL: 'http://127.0.0.1:9' });
    expect(await runCli(['orders'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/cannot reach the API/);
  });
});
