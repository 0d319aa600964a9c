import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './parse.js';

/** What `livescope login` stores: the access token and the API it was obtained for. */
export interface StoredToken {
  /** The API base URL the token is for: it is never sent anywhere else. */
  readonly api: string;
  readonly issuer: string;
  readonly accessToken: string;
  /** Epoch ms; undefined when the provider did not say. */
  readonly expiresAt: number | undefined;
  readonly sub: string;
}

/** `$LIVESCOPE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/livescope`, else `%APPDATA%\livescope` on Windows, else `~/.config/livescope`. */
export function configDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.LIVESCOPE_CONFIG_DIR) return env.LIVESCOPE_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'livescope');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'livescope');
  return join(env.HOME ?? homedir(), '.config', 'livescope');
}

export const tokenPath = (env: Readonly<Record<string, string | undefined>>): string => join(configDir(env), 'token.json');

/** The same API whatever its spelling: origin and path without trailing slashes. */
export const sameApi = (a: string, b: string): boolean => {
  const norm = (u: string): string => {
    try {
      const x = new URL(u);
      return `${x.origin}${x.pathname.replace(/\/+$/, '')}`;
    } catch {
      return u.replace(/\/+$/, '');
    }
  };
  return norm(a) === norm(b);
};

/**
 * Writes the token readable by its owner only (0600, in a 0700 directory), through a temporary file
 * renamed into place so that a reader never sees half a file and no other user ever could.
 */
export function saveToken(path: string, token: StoredToken): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${JSON.stringify(token, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Deletes the stored token; false when there was none. */
export function removeToken(path: string): boolean {
  try {
    statSync(path);
  } catch {
    return false;
  }
  rmSync(path, { force: true });
  return true;
}

/**
 * The stored token for `api`, if there is one: undefined when none is stored or it is for another
 * API. Refuses (UsageError) a file others can read or write, and an expired token.
 */
export function loadToken(path: string, api: string, now = Date.now()): StoredToken | undefined {
  let text: string;
  try {
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) throw new UsageError(`${path} is readable or writable by other users: delete it (livescope logout) and sign in again`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return undefined;
  }
  let t: Partial<StoredToken>;
  try {
    t = JSON.parse(text) as Partial<StoredToken>;
  } catch {
    throw new UsageError(`${path} is not a stored sign-in (not JSON): delete it with livescope logout`);
  }
  if (typeof t.api !== 'string' || typeof t.accessToken !== 'string') throw new UsageError(`${path} is not a stored sign-in: delete it with livescope logout`);
  if (!sameApi(t.api, api)) return undefined;
  if (typeof t.expiresAt === 'number' && t.expiresAt <= now) throw new UsageError(`the sign-in stored in ${path} expired at ${new Date(t.expiresAt).toISOString()}: run livescope login again`);
  return t as StoredToken;
}
