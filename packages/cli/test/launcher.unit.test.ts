import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const launcher = fileURLToPath(new URL('../bin/livescope.js', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs the committed bin as npm links it, with a plain `node` and no loader flags. */
function livescope(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [launcher, ...args], { timeout: 50_000, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`the launcher did not run: ${err.message}`, { cause: err }));
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

describe('the livescope launcher (bin/livescope.js)', () => {
  it('prints the help with every command, from the build or else from the sources', async () => {
    const r = await livescope(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: livescope \[options\] \[command\]/);
    for (const command of ['narrow', 'quarantine', 'lift', 'order', 'orders', 'scope', 'explain', 'alerts', 'enforcers', 'watch', 'token', 'identities', 'fleet', 'changes', 'me', 'revoke-approval', 'policy', 'completion']) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('prints its version', async () => {
    const r = await livescope(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('exits 2 on an unknown command', async () => {
    const r = await livescope(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it('ends quietly when its reader goes away (regression: `livescope --help | head` died with an unhandled EPIPE)', async () => {
    const child = spawn(process.execPath, [launcher, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints a completion script', async () => {
    const r = await livescope(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o default -F _livescope_complete livescope');
  });
});
