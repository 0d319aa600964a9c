import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleAssets } from './ConsoleAssets.js';

const build = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), '');
  writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
  return dir;
};

describe('ConsoleAssets', () => {
  it('serves build files, the page for client-side routes, and nothing else', () => {
    const a = ConsoleAssets.at(build());
    expect(a.problem).toBeUndefined();
    expect(a.fileFor('')).toEqual({ path: 'index.html', immutable: false });
    expect(a.fileFor('assets/index-abc123.js')).toEqual({ path: 'assets/index-abc123.js', immutable: true });
    expect(a.fileFor('favicon.svg')).toEqual({ path: 'favicon.svg', immutable: false });
    expect(a.fileFor('identities/agent-ci-000001')).toEqual({ path: 'index.html', immutable: false });
    expect(a.fileFor('assets/missing.js')).toBeUndefined();
  });

  it('never leaves the build directory', () => {
    const a = ConsoleAssets.at(build());
    for (const p of ['../package.json', 'assets/../../secret.txt', '%2e%2e/%2e%2e/etc/passwd', 'a\0b']) {
      const f = a.fileFor(p);
      expect(f === undefined || f.path === 'index.html').toBe(true);
    }
  });

  it('says why the console is unavailable when it was not built', () => {
    const a = ConsoleAssets.at(join(tmpdir(), 'no-such-console-build'));
    expect(a.root).toBeUndefined();
    expect(a.problem).toMatch(/index\.html is missing: build the console/);
    expect(a.fileFor('')).toBeUndefined();
  });
});
