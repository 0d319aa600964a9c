#!/usr/bin/env node
import { ExitCode, exitWith, runService, startTracing, stoppable, withTracing } from '@livescope/runtime';
import { createLogger, type Logger } from '@livescope/transport';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { loadInteropConfig } from './config.js';
import { InteropService } from './InteropService.js';

/** `livescope-interop keygen [kid]`: prints a new RS256 (2048-bit) SET signing key as LIVESCOPE_SSF_SIGNING_KEYS JSON. */
async function keygen(kid: string): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  process.stdout.write(`${JSON.stringify([{ kid, alg: 'RS256', privateKey: await exportPKCS8(privateKey) }])}\n`);
  process.stderr.write(`public JWK (published at /ssf/jwks.json): ${JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' })}\n`);
}

let logger: Logger | undefined;

async function main(): Promise<number> {
  const [command, arg] = process.argv.slice(2);
  if (command === 'keygen') {
    await keygen(arg ?? `ssf-${new Date().toISOString().slice(0, 10)}`);
    return ExitCode.stopped;
  }
  if (command !== undefined && command !== 'serve') {
    process.stderr.write(`livescope-interop: unknown command ${command}\nusage: livescope-interop [serve] | keygen [kid]\n`);
    return ExitCode.config;
  }
  return runService({
    name: 'livescope-interop',
    get logger() {
      return logger;
    },
    start: async () => {
      const config = loadInteropConfig();
      const tracing = startTracing(config, 'interop');
      logger = createLogger('livescope-interop', config.logLevel).child({ instance: config.instanceId });
      const service = new InteropService(config, logger);
      await service.start();
      return withTracing(stoppable(() => service.stop()), tracing);
    },
  });
}

exitWith('livescope-interop', main);
