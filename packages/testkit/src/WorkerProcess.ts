import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const workerMain = fileURLToPath(new URL('../../../services/scope-worker/dist/main.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The V8 flags the worker is shipped with (image, `npm start`): tests and benchmarks run it the same way. */
const workerNodeFlags = JSON.parse(readFileSync(resolve(repoRoot, 'services/scope-worker/node-flags.json'), 'utf8')) as string[];

export interface WorkerProcessOptions {
  /**
   * Runs this TypeScript entry instead of the built `dist/main.js`, through tsx with the workspace
   * packages resolved to their sources (`node --import tsx --conditions=livescope-source <file>`):
   * for test-only entries such as `services/scope-worker/src/testing/faultyMain.ts`, which no build
   * contains. A path relative to the repository root, or absolute.
   */
  readonly sourceEntry?: string;
}

/**
 * A scope-worker as a real OS process (the built `dist/main.js`, as in production), so tests can
 * SIGTERM or SIGKILL it and benchmarks can hold it. Its JSON log lines are kept for assertions
 * and printed on failure.
 *
 * Benchmarks: `pause()`/`resume()` (SIGSTOP/SIGCONT) hold a worker that has joined its group
 * while data is loaded, so a measurement starts from a warm, assigned worker;
 * LIVESCOPE_BENCH_WORKER_PROFILE=<dir> makes every worker write a V8 CPU profile there and
 * LIVESCOPE_BENCH_WORKER_NODE_OPTIONS passes runtime flags to the workers only, in place of the
 * shipped ones (`services/scope-worker/node-flags.json`).
 *
 * `options.sourceEntry` runs a source entry (a test-only fault-injecting main) through tsx instead.
 */
export class WorkerProcess {
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  /** Set when the process ended without being asked to (a crash). */
  crashed: string | undefined;
  private stopping = false;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly nodeArgs: readonly string[] = [],
    private readonly options: WorkerProcessOptions = {},
  ) {}

  start(): this {
    const prof = process.env.LIVESCOPE_BENCH_WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LIVESCOPE_BENCH_WORKER_PROFILE}`] : [];
    const nodeOptions = process.env.LIVESCOPE_BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.LIVESCOPE_BENCH_WORKER_NODE_OPTIONS } : {};
    // Command-line flags would win over NODE_OPTIONS: the experiment's flags replace the shipped ones.
    const shipped = process.env.LIVESCOPE_BENCH_WORKER_NODE_OPTIONS === undefined ? workerNodeFlags : [];
    const entry = this.options.sourceEntry === undefined ? [workerMain] : ['--import', 'tsx', '--conditions=livescope-source', resolve(repoRoot, this.options.sourceEntry)];
    const child = spawn(process.execPath, [...prof, ...shipped, ...this.nodeArgs, ...entry], {
      env: { ...process.env, ...this.env, ...nodeOptions, LIVESCOPE_WORKER_ID: this.name },
      // tsx is a devDependency of the repository root: resolve `--import tsx` from there.
      ...(this.options.sourceEntry === undefined ? {} : { cwd: repoRoot }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (b: Buffer): void => {
      for (const line of b.toString().split('\n')) if (line) this.logs.push(line);
      if (this.logs.length > 5000) this.logs.splice(0, this.logs.length - 5000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        if (!this.stopping) this.crashed = `exit ${code ?? signal}: ${this.logs.slice(-8).join('\n')}`;
        resolve(code);
      }),
    );
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** undefined while running; the reason once it died without being asked to (for polling loops). */
  readonly deadReason = (): string | undefined => this.crashed;

  /** Whether a log line with this `msg` was written (pino JSON). */
  logged(msg: string): boolean {
    return this.logs.some((l) => l.includes(`"msg":"${msg}"`));
  }

  /** The log lines (pino JSON) whose msg is `msg`, parsed. */
  loggedLines(msg: string): Record<string, unknown>[] {
    return this.logs.filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.stopping = true;
    this.child?.kill(signal);
    return this.exited ?? Promise.resolve(null);
  }

  /** SIGTERM (a clean stop: the batch in flight commits); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 40_000): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}
