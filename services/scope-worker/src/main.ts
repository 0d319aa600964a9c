#!/usr/bin/env node
import { compileScopePolicy } from '@livescope/scope-engine';
import { createLogger } from '@livescope/transport';
import { ConfigError, loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import { startMetricsServer } from './metricsServer.js';
import { retryStartup } from './retry.js';

/** Process entry of the scope worker: parse config, start, and stop cleanly on SIGTERM / SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`livescope scope-worker: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger('scope-worker', config.logLevel).child({ workerId: config.workerId });
  const { worker, store, metrics, registry } = await retryStartup('connecting to PostgreSQL', () => createWorker(config, logger, compileScopePolicy), {
    timeoutMs: config.startupTimeoutMs,
    log: (msg, attempt, err) => logger.warn({ attempt, err }, msg),
  });
  const server =
    config.metricsPort > 0
      ? await startMetricsServer(config.metricsPort, metrics.registry, async () => {
          const checks: Record<string, string> = {};
          await store.ping().then(
            () => (checks.postgres = 'ok'),
            (e: Error) => (checks.postgres = e.message),
          );
          await registry.ping().then(
            () => (checks.registry = 'ok'),
            (e: Error) => (checks.registry = e.message),
          );
          checks.partitions = worker.ownedPartitions.join(',') || 'none';
          return { ok: checks.postgres === 'ok' && checks.registry === 'ok', checks };
        })
      : undefined;
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
    void worker
      .stop()
      .then(() => store.close())
      .then(() => server?.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await worker.start();
}

main().catch((e: unknown) => {
  process.stderr.write(`livescope scope-worker failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
