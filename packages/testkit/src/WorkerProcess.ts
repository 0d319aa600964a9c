import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerMain = fileURLToPath(new URL('../../../services/scope-worker/dist/main.js', import.meta.url));

/**
 * A scope-worker as a real OS process (the built `dist/main.js`), so tests can SIGTERM or SIGKILL
 * it. Its JSON log lines are kept for assertions and printed on failure.
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
  ) {}

  start(): this {
    const child = spawn(process.execPath, [workerMain], { env: { ...process.env, ...this.env, LIVESCOPE_WORKER_ID: this.name }, stdio: ['ignore', 'pipe', 'pipe'] });
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

  /** Whether a log line with this `msg` was written (pino JSON). */
  logged(msg: string): boolean {
    return this.logs.some((l) => l.includes(`"msg":"${msg}"`));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.stopping = true;
    this.child?.kill(signal);
    return this.exited ?? Promise.resolve(null);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    await this.kill('SIGTERM');
  }
}
