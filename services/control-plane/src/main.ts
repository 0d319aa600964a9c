#!/usr/bin/env node
import { exitWith, runService, startTracing, stoppable, withTracing } from '@livescope/runtime';
import { createLogger, type Logger } from '@livescope/transport';
import { loadControlPlaneConfig } from './config.js';
import { ControlPlane } from './ControlPlane.js';

/** Process entry of the control plane (see @livescope/runtime runService: signals, grace period, exit codes). */
let logger: Logger | undefined;
exitWith('livescope control-plane', () =>
  runService({
    name: 'livescope control-plane',
    get logger() {
      return logger;
    },
    start: async () => {
      const config = loadControlPlaneConfig();
      const tracing = startTracing(config, 'control-plane');
      logger = createLogger('control-plane', config.logLevel).child({ instanceId: config.instanceId });
      const cp = new ControlPlane(config, logger);
      await cp.start();
      return withTracing(stoppable(() => cp.stop()), tracing);
    },
  }),
);
