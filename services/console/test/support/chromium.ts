import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

const find = (): string | undefined => {
  const configured = process.env.LIVESCOPE_CHROMIUM;
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((p) => existsSync(p));
};

/**
 * Debian's Chromium for the browser tests (Playwright's own browser downloads are not possible
 * here). When it is missing, try to install it once with apt-get, as CI does; undefined (with the
 * reason) only when that fails too.
 */
export function locateChromium(): { path: string } | { path: undefined; reason: string } {
  const found = find();
  if (found) return { path: found };
  if (process.env.LIVESCOPE_CHROMIUM) return { path: undefined, reason: `LIVESCOPE_CHROMIUM=${process.env.LIVESCOPE_CHROMIUM} does not exist` };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) return { path: undefined, reason: 'Chromium is not installed (apt-get install chromium) and this user cannot install it' };
  try {
    process.stderr.write('console e2e: Chromium is missing; installing Debian\'s chromium package…\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 300_000, env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', timeout: 600_000, env });
  } catch (e) {
    return { path: undefined, reason: `Chromium is not installed and apt-get install chromium failed: ${(e as Error).message}` };
  }
  const after = find();
  return after ? { path: after } : { path: undefined, reason: 'apt-get install chromium succeeded but no Chromium binary was found' };
}

/** Flags for a headless Chromium on a machine without a network beyond loopback. */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
