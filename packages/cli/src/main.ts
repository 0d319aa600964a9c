#!/usr/bin/env node
import { runCli } from './runCli.js';

/** The `livescope` command line: the process around `runCli` (started by bin/livescope.js). */
const ctl = new AbortController();
// A reader that went away (`livescope … | head`) ends the command quietly, as for any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    ctl.abort();
    process.exit(process.exitCode ?? 0);
  });
}
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  ctl.abort();
});
runCli(process.argv.slice(2), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
  isTTY: process.stderr.isTTY,
  signal: ctl.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`livescope: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
