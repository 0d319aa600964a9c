import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@livescope/testkit';

const agentMain = fileURLToPath(new URL('../../services/enforcer-agent/dist/main.js', import.meta.url));

/** livescope-enforcer as a real OS process (the built dist/main.js); its JSON log lines are kept. */
export class AgentProcess {
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;

  constructor(private readonly env: Record<string, string>) {}

  /** Starts it and waits until it serves and has read the scope (its `ready` log line). */
  async start(timeoutMs = 120_000): Promise<{ httpPort: number; grpcPort: number | undefined }> {
    const child = spawn(process.execPath, [agentMain], { env: { ...process.env, LIVESCOPE_LOG_LEVEL: 'info', ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (b: Buffer): void => {
      for (const line of b.toString().split('\n')) if (line) this.logs.push(line);
      if (this.logs.length > 5000) this.logs.splice(0, this.logs.length - 5000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(`the agent to be ready (logs: ${this.logs.slice(-5).join('\n')})`, () => (child.exitCode !== null ? Promise.reject(new Error(`agent exited ${child.exitCode}: ${this.logs.slice(-10).join('\n')}`)) : this.line('livescope-enforcer ready') !== undefined), timeoutMs, 50);
    const serving = this.line('livescope-enforcer serving (checks denied until the scope is read)')!;
    return { httpPort: serving.httpPort as number, grpcPort: serving.grpcPort as number | undefined };
  }

  line(msg: string): Record<string, unknown> | undefined {
    const l = this.logs.find((x) => x.includes(`"msg":"${msg}"`));
    return l === undefined ? undefined : (JSON.parse(l) as Record<string, unknown>);
  }

  /** SIGTERM; resolves with the exit code (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    this.child.kill('SIGTERM');
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }
}

/** A free loopback port (for processes that cannot report the one they took). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Debian's nginx, run as a plain process with its own prefix and config on loopback ports. */
export class NginxProcess {
  private child: ChildProcess | undefined;
  readonly output: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly config: string,
  ) {}

  static available(): string | undefined {
    const v = spawnSync('nginx', ['-V'], { encoding: 'utf8' });
    if (v.error) return 'nginx is not installed (apt-get install nginx-light; .ci/run installs it)';
    return `${v.stdout}${v.stderr}`.includes('http_auth_request_module') ? undefined : 'this nginx lacks the auth_request module';
  }

  async start(port: number): Promise<void> {
    for (const d of ['logs', 'tmp']) mkdirSync(join(this.dir, d), { recursive: true });
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(conf, this.config);
    const t = spawnSync('nginx', ['-t', '-p', this.dir, '-c', conf, '-g', 'daemon off;'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nginx -t refused the configuration: ${t.stderr}`);
    const child = spawn('nginx', ['-p', this.dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (b: Buffer) => this.output.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => this.output.push(b.toString()));
    await waitFor(`nginx to listen on ${port} (${this.output.join('')})`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${this.output.join('')} ${this.errorLog()}`);
      return fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      );
    }, 20_000, 50);
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'logs', 'error.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.on('exit', r));
    c.kill('SIGQUIT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
