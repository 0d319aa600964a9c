import { classify, retry } from '@livescope/errors';
import { compileScopePolicy } from '@livescope/scope-engine';
import { createLogger } from '@livescope/transport';
import { ConfigError, loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import { startMetricsServer } from './metricsServer.js';
import type { PartitionFaults } from './PartitionRunner.js';

/** Exit codes of the worker process: 0 stopped on request, 1 failed (fatal error), 2 bad configuration. */
export const ExitCode = { stopped: 0, failed: 1, config: 2 } as const;

/**
 * The scope worker as a process: parse the configuration, start, serve /metrics, /healthz and
 * /readyz, stop cleanly on SIGTERM / SIGINT (forced after `graceMs`), and settle with the exit code.
 */
export async function runWorkerProcess(options: { faults?: PartitionFaults; graceMs?: number } = {}): Promise<number> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`livescope scope-worker: ${e.message}\n`);
      return ExitCode.config;
    }
    throw e;
  }
  const logger = createLogger('scope-worker', config.logLevel).child({ workerId: config.workerId });
  let created;
  try {
    // PostgreSQL may be restarting: connecting and migrating are retried like the rest of start-up.
    created = await retry(() => createWorker(config, logger, compileScopePolicy, options.faults), {
      timeoutMs: config.startupTimeoutMs,
      baseMs: 250,
      onRetry: (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs }, 'connecting to PostgreSQL failed; retrying'),
    });
  } catch (e) {
    logger.fatal({ err: e, class: classify(e) }, 'scope worker could not be created');
    return classify(e) === 'fatal' ? ExitCode.config : ExitCode.failed;
  }
  const { worker, store, metrics, registry } = created;
  const server =
    config.metricsPort > 0
      ? await startMetricsServer(config.metricsPort, metrics.registry, async () => {
          const checks: Record<string, string> = {};
          // Readiness names what is down, never the raw error text (it may carry internals).
          await store.ping().then(
            () => (checks.postgres = 'ok'),
            (e: unknown) => (checks.postgres = `unavailable (${classify(e)})`),
          );
          await registry.ping().then(
            () => (checks.registry = 'ok'),
            (e: unknown) => (checks.registry = `unavailable (${classify(e)})`),
          );
          checks.state = worker.state;
          checks.partitions = worker.ownedPartitions.join(',') || 'none';
          return { ok: checks.postgres === 'ok' && checks.registry === 'ok' && worker.state === 'running', checks };
        })
      : undefined;
  const graceMs = options.graceMs ?? 30_000;
  const onSignal = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took longer than the grace period; exiting');
      process.exit(ExitCode.failed);
    }, graceMs);
    force.unref();
    void worker.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  let code: number = ExitCode.stopped;
  try {
    await worker.run();
  } catch {
    // Logged whole by the worker when it failed.
    code = ExitCode.failed;
  }
  await store.close().catch((err: unknown) => logger.warn({ err }, 'closing PostgreSQL'));
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  return code;
}
