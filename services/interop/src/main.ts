#!/usr/bin/env node
import { ConfigError } from '@livescope/runtime';
import { createLogger } from '@livescope/transport';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { loadInteropConfig } from './config.js';
import { InteropError } from './InteropError.js';
import { InteropService } from './InteropService.js';

/** `livescope-interop keygen [kid]`: prints a new RS256 (2048-bit) SET signing key as LIVESCOPE_SSF_SIGNING_KEYS JSON. */
async function keygen(kid: string): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  process.stdout.write(`${JSON.stringify([{ kid, alg: 'RS256', privateKey: await exportPKCS8(privateKey) }])}\n`);
  process.stderr.write(`public JWK (published at /ssf/jwks.json): ${JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' })}\n`);
}

async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  if (command === 'keygen') return keygen(arg ?? `ssf-${new Date().toISOString().slice(0, 10)}`);
  if (command !== undefined && command !== 'serve') throw new InteropError('CONFIG', 'fatal', `unknown command ${command}\nusage: livescope-interop [serve] | keygen [kid]`);
  const config = loadInteropConfig();
  const logger = createLogger('livescope-interop', config.logLevel).child({ instance: config.instanceId });
  const service = new InteropService(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    void service.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await service.start();
}

main().catch((e: unknown) => {
  if ((InteropError.is(e) && e.classification === 'fatal') || ConfigError.is(e)) {
    process.stderr.write(`livescope-interop: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`livescope-interop failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
