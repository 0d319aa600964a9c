#!/usr/bin/env node
import { runWorkerProcess } from './runWorker.js';

/** Process entry of the scope worker (see runWorker.ts). */
runWorkerProcess().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`livescope scope-worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
