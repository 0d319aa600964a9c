import { classify } from '@livescope/errors';
import { ConfigError } from './ConfigError.js';

/** A started service: `done` settles when it stops (resolves) or fails (rejects); `stop` asks it to stop. */
export interface ServiceHandle {
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** What `runService` logs through (a pino logger fits). */
export interface ServiceLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RunServiceOptions {
  /** Shown in messages on stderr, e.g. `livescope control-plane`. */
  readonly name: string;
  /** Starts the service; resolves once it runs. */
  readonly start: () => Promise<ServiceHandle>;
  /** Logger for signals and the grace period; absent before configuration is read. */
  readonly logger?: ServiceLogger;
  /** How long a stop may take after SIGTERM / SIGINT before the process is ended, in ms. Default 30000. */
  readonly graceMs?: number;
  /** Called when the grace period runs out (default: `process.exit(1)`). */
  readonly onGraceExceeded?: () => void;
}

/** Exit codes of every livescope process. */
export const ExitCode = {
  /** Stopped on request (SIGTERM, SIGINT). */
  stopped: 0,
  /** Failed: a fatal error stopped it, or it could not start. */
  failed: 1,
  /** The configuration is invalid (the message names the variable). */
  config: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one process runner of every livescope service's `main.ts`: starts the service, stops it on
 * SIGTERM / SIGINT within a grace period (then exits non-zero), and resolves with the exit code —
 * 0 stopped on request, 1 failed, 2 bad configuration. Errors are logged whole by the service; a
 * start that throws is written to stderr with its class.
 */
export async function runService(o: RunServiceOptions): Promise<ExitCode> {
  let handle: ServiceHandle;
  try {
    handle = await o.start();
  } catch (e) {
    if (ConfigError.is(e)) {
      process.stderr.write(`${o.name}: ${e.message}\n`);
      return ExitCode.config;
    }
    process.stderr.write(`${o.name} failed to start (${classify(e)}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.failed;
  }
  const graceMs = o.graceMs ?? 30_000;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    o.logger?.info({ signal, graceMs }, 'shutting down');
    const force = setTimeout(() => {
      o.logger?.error({ graceMs }, 'shutdown took longer than the grace period; exiting');
      (o.onGraceExceeded ?? (() => process.exit(ExitCode.failed)))();
    }, graceMs);
    force.unref();
    void handle.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await handle.done;
    return ExitCode.stopped;
  } catch {
    // The service logged its fatal error whole when it failed.
    return ExitCode.failed;
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
  }
}

/** Runs `main` and exits the process with the code it resolves to (or 1 when it throws). */
export function exitWith(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(ExitCode.failed);
    },
  );
}

/** A handle for a service with start/stop but no failure signal of its own: `done` resolves once stopped. */
export function stoppable(stop: () => Promise<void>): ServiceHandle {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    done,
    stop: async () => {
      await stop();
      resolve();
    },
  };
}
