#!/usr/bin/env node
import { createLogger } from '@livescope/transport';
import { ConfigError, loadControlPlaneConfig } from './config.js';
import { ControlPlane } from './ControlPlane.js';

/** Process entry of the control plane: parse config, start, and stop cleanly on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadControlPlaneConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`livescope control-plane: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger('control-plane', config.logLevel).child({ instanceId: config.instanceId });
  const cp = new ControlPlane(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    void cp.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await cp.start();
}

main().catch((e: unknown) => {
  process.stderr.write(`livescope control-plane failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
