import { classify, retry } from '@livescope/errors';
import { runService, startTracing, withTracing, type ExitCode } from '@livescope/runtime';
import { compileScopePolicy } from '@livescope/scope-engine';
import { createLogger, type Logger } from '@livescope/transport';
import { loadWorkerConfig } from './config.js';
import { createWorker } from './createWorker.js';
import { startMetricsServer } from './metricsServer.js';
import type { PartitionFaults } from './PartitionRunner.js';

/**
 * The scope worker as a process (on @livescope/runtime's runService: signals, grace period, exit
 * codes 0 stopped / 1 failed / 2 bad configuration): parse the configuration, connect (PostgreSQL
 * retried while it restarts), serve /metrics, /healthz and /readyz, and settle when the worker stops
 * or fails.
 */
export function runWorkerProcess(options: { faults?: PartitionFaults; graceMs?: number } = {}): Promise<ExitCode> {
  let logger: Logger | undefined;
  return runService({
    name: 'livescope scope-worker',
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    get logger() {
      return logger;
    },
    start: async () => {
      const config = loadWorkerConfig();
      const tracing = startTracing(config, 'scope-worker');
      const log = createLogger('scope-worker', config.logLevel).child({ workerId: config.workerId });
      logger = log;
      const { worker, store, metrics, registry } = await retry(() => createWorker(config, log, compileScopePolicy, options.faults), {
        timeoutMs: config.startupTimeoutMs,
        baseMs: 250,
        onRetry: (err, attempt, delayMs) => log.warn({ err, attempt, delayMs }, 'connecting to PostgreSQL failed; retrying'),
      });
      const server =
        config.metricsPort > 0
          ? await startMetricsServer(config.metricsPort, config.metricsHost, metrics.registry, async () => {
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
      const release = async (): Promise<void> => {
        await store.close().catch((err: unknown) => log.warn({ err }, 'closing PostgreSQL'));
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      };
      try {
        await worker.start();
      } catch (e) {
        await release();
        throw e;
      }
      return withTracing({ done: worker.done.finally(release), stop: () => worker.stop() }, tracing);
    },
  });
}
