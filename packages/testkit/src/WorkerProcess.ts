import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerMain = fileURLToPath(new URL('../../../services/scope-worker/dist/main.js', import.meta.url));

/**
 * A scope-worker as a real OS process (the built `dist/main.js`, as in production), so tests can
 * SIGTERM or SIGKILL it and benchmarks can hold it. Its JSON log lines are kept for assertions
 * and printed on failure.
 *
 * Benchmarks: `pause()`/`resume()` (SIGSTOP/SIGCONT) hold a worker that has joined its group
 * while data is loaded, so a measurement starts from a warm, assigned worker;
 * LIVESCOPE_BENCH_WORKER_PROFILE=<dir> makes every worker write a V8 CPU profile there and
 * LIVESCOPE_BENCH_WORKER_NODE_OPTIONS passes runtime flags to the workers only.
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
  ) {}

  start(): this {
    const prof = process.env.LIVESCOPE_BENCH_WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LIVESCOPE_BENCH_WORKER_PROFILE}`] : [];
    const nodeOptions = process.env.LIVESCOPE_BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.LIVESCOPE_BENCH_WORKER_NODE_OPTIONS } : {};
    const child = spawn(process.execPath, [...prof, ...this.nodeArgs, workerMain], {
      env: { ...process.env, ...this.env, ...nodeOptions, LIVESCOPE_WORKER_ID: this.name },
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
