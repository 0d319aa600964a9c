import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SignJWT } from 'jose';
import { parsePrivateKey } from '@livescope/transport';
import type { Role } from './roles.js';

/**
 * DEVELOPMENT ONLY. `npm start` keeps development key pairs in ~/.cache/livescope/dev-keys.json
 * (`LIVESCOPE_DEV_KEYS`). `livescope token` mints tokens with the private key of its `api` pair and
 * a control plane without configured keys trusts its public key; whichever runs first adds the pair
 * when the file has none. The control plane reads the same file with its own code (the CLI never
 * loads the server's): runCli.unit.test.ts checks that each accepts what the other wrote. Never use
 * these keys, or tokens minted with them, in production.
 */
export interface DevApiKey {
  readonly kid: string;
  /** base64url raw Ed25519 seed. */
  readonly privateKey: string;
  /** base64url raw Ed25519 public key. */
  readonly publicKey: string;
}

export function defaultDevKeysPath(env: Record<string, string | undefined>): string {
  return env.LIVESCOPE_DEV_KEYS ?? join(env.LIVESCOPE_HOME ?? join(homedir(), '.cache', 'livescope'), 'dev-keys.json');
}

/** Reads the development key file and returns its `api` key pair, adding one (and writing the file back) when absent. */
export function loadOrCreateDevApiKey(path: string): DevApiKey {
  const file: Record<string, unknown> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  const api = file.api as Partial<DevApiKey> | undefined;
  if (api && typeof api.kid === 'string' && typeof api.privateKey === 'string' && typeof api.publicKey === 'string') return { kid: api.kid, privateKey: api.privateKey, publicKey: api.publicKey };
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  const created: DevApiKey = { kid: 'dev-api-1', privateKey: jwk.d, publicKey: jwk.x };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...file, api: created }, null, 2), { mode: 0o600 });
  renameSync(tmp, path);
  return created;
}

export interface DevTokenRequest {
  readonly key: DevApiKey;
  readonly sub: string;
  readonly roles: readonly Role[];
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly nowMs?: number;
  /** The `kind` claim: `human` (default) marks a person, who may approve escalations; `workload` or `agent` a machine. */
  readonly kind?: string;
}

/** Mints a development token (EdDSA) for the API. */
export async function mintDevToken(r: DevTokenRequest): Promise<string> {
  const now = Math.floor((r.nowMs ?? Date.now()) / 1000);
  const { privateKey } = parsePrivateKey(r.key.kid, r.key.privateKey);
  return new SignJWT({ roles: [...r.roles], dev: true, kind: r.kind ?? 'human' })
    .setProtectedHeader({ alg: 'EdDSA', kid: r.key.kid, typ: 'JWT' })
    .setSubject(r.sub)
    .setIssuer(r.issuer)
    .setAudience(r.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + r.ttlSeconds)
    .sign(privateKey);
}
