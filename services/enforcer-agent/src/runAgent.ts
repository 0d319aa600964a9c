import { runService, startTracing, withTracing, type ExitCode } from '@livescope/runtime';
import { createLogger, type Logger } from '@livescope/transport';
import { Agent } from './Agent.js';
import { loadAgentConfig } from './config.js';

/**
 * livescope-enforcer as a process (on @livescope/runtime's runService: SIGTERM / SIGINT stop it
 * within the grace period; exit codes 0 stopped, 1 failed, 2 bad configuration).
 */
export function runAgentProcess(): Promise<ExitCode> {
  let logger: Logger | undefined;
  let graceMs: number | undefined;
  return runService({
    name: 'livescope-enforcer',
    get graceMs() {
      // The stop's own grace (checks in flight) plus the enforcer's last flush.
      return (graceMs ?? 10_000) + 10_000;
    },
    get logger() {
      return logger;
    },
    start: async () => {
      const config = loadAgentConfig();
      graceMs = config.graceMs;
      const tracing = startTracing(config, 'enforcer-agent');
      // The SDK and the agent name the enforcement point in their own lines.
      const log = createLogger('enforcer-agent', config.logLevel);
      logger = log;
      const agent = new Agent(config, log);
      await agent.start();
      return withTracing({ done: agent.done, stop: () => agent.stop() }, tracing);
    },
  });
}
