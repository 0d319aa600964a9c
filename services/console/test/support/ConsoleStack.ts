import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LivescopeEventInput } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { compileScopePolicy } from '@livescope/scope-engine';
import { createWorker, loadWorkerConfig, type ScopeWorker } from '@livescope/scope-worker';
import { fleetMembers, policiesEvent, provisioningEvents, readPolicyDir, traffic, type FleetMember } from '@livescope/simulator';
import { PipelineFixture, testEnv, waitFor } from '@livescope/testkit';
import { parsePublicKey } from '@livescope/transport';
import { SignJWT } from 'jose';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const consoleDist = fileURLToPath(new URL('../../dist/', import.meta.url));
export const resultsDir = fileURLToPath(new URL('../../test-results/', import.meta.url));

const ISSUER = 'https://idp.console-e2e.test';
const AUDIENCE = 'livescope-api';

export interface StackOptions {
  /** Identities of the simulated fleet. */
  readonly fleetSize: number;
  /** The control plane closes event streams after this long, so clients reconnect and resume (Last-Event-ID). */
  readonly sseMaxMs: number;
  /** Background events per second from the simulator's traffic mix while the stack runs. */
  readonly trafficPerSecond: number;
  /** More environment of the control plane (single sign-on), over the stack's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The whole pipeline for the console's browser tests, on an isolated PipelineFixture over the real
 * Kafka, registry and PostgreSQL: a scope worker in process (the Cedar adapter, as in production),
 * the control plane as its own process from its sources, serving the built console, an
 * enforcement point (the Enforcer SDK), and the simulator's seeded fleet, example policies and
 * background traffic published through the fixture.
 */
export class ConsoleStack {
  fx!: PipelineFixture;
  worker!: ScopeWorker;
  enforcer!: Enforcer;
  url!: string;
  fleet: FleetMember[] = [];
  private cp: ChildProcess | undefined;
  private cpLog: WriteStream | undefined;
  private readonly cpTail: string[] = [];
  private closeWorkerStore: (() => Promise<void>) | undefined;
  private trafficStop: (() => Promise<void>) | undefined;
  private readonly issuer = generateKeyPairSync('ed25519');
  readonly enforcerId = 'gw-payments-edge';

  constructor(readonly options: StackOptions) {}

  async open(): Promise<this> {
    this.fx = await new PipelineFixture(3).open();
    // Small batches: the outputs of one batch go to Kafka in one request, which must stay under the broker's 1 MiB.
    const built = await createWorker(loadWorkerConfig(this.fx.workerEnv({ LIVESCOPE_MAX_BATCH_MESSAGES: '200' })), this.fx.logger, compileScopePolicy);
    this.worker = built.worker;
    this.closeWorkerStore = () => built.store.close();
    await this.worker.start();
    await this.startControlPlane();
    this.enforcer = new Enforcer({
      brokers: testEnv.brokers,
      registryUrl: testEnv.registryUrl,
      enforcerId: this.enforcerId,
      trustedKeys: [parsePublicKey(this.fx.keys.kid, this.fx.keys.publicKey)],
      topicPrefix: this.fx.prefix,
      logger: this.fx.logger,
      requireSession: false,
      flushIntervalMs: 250,
    });
    await this.enforcer.start();
    await this.enforcer.ready;
    return this;
  }

  private async startControlPlane(): Promise<void> {
    mkdirSync(resultsDir, { recursive: true });
    this.cpLog = createWriteStream(`${resultsDir}control-plane.log`);
    const x = (this.issuer.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const env = {
      ...process.env,
      ...this.fx.workerEnv(),
      LIVESCOPE_API_PORT: '0',
      LIVESCOPE_API_GROUP_ID: `${this.fx.groupId}-cp`,
      LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ 'console-e2e': x }),
      // The control plane signs what it publishes (orders, approvals, policies) with a producer key of the workers' keyring.
      LIVESCOPE_PRODUCER_KEY_ID: this.fx.producerKeys.kid,
      LIVESCOPE_PRODUCER_KEY: this.fx.producerKeys.privateKey,
      LIVESCOPE_API_JWT_ISSUER: ISSUER,
      LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
      LIVESCOPE_API_RATE_LIMIT_PER_MINUTE: '100000',
      LIVESCOPE_API_SSE_MAX_MS: String(this.options.sseMaxMs),
      LIVESCOPE_API_SSE_POLL_MS: '500',
      LIVESCOPE_CONSOLE_DIR: consoleDist,
      LIVESCOPE_LOG_LEVEL: 'info',
      ...this.options.env,
    };
    // From its sources (tsx), so the test never runs a stale build of the control plane.
    const cp = spawn(process.execPath, ['--conditions=livescope-source', '--import', 'tsx', 'services/control-plane/src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.cp = cp;
    let url: string | undefined;
    let exited: string | undefined;
    cp.on('exit', (code, signal) => (exited = `exited (${code ?? signal})`));
    const onLine = (line: string): void => {
      this.cpLog?.write(`${line}\n`);
      this.cpTail.push(line);
      if (this.cpTail.length > 60) this.cpTail.shift();
      if (!url && line.includes('control plane listening')) url = (JSON.parse(line) as { url: string }).url;
    };
    for (const stream of [cp.stdout, cp.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    }
    try {
      this.url = await waitFor('the control plane to listen', () => {
        if (exited) throw new Error(`the control plane ${exited}:\n${this.cpTail.join('\n')}`);
        return url;
      }, 120_000, 100);
    } catch (e) {
      cp.kill('SIGKILL');
      throw e;
    }
  }

  /** The last lines the control plane logged (for failure messages). */
  controlPlaneTail(): string {
    return this.cpTail.join('\n');
  }

  /** A bearer token from the issuer the control plane trusts. */
  async token(roles: readonly string[], sub: string, claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: [...roles], ...claims })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'console-e2e' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now - 30)
      .setExpirationTime(now + 3600)
      .sign(this.issuer.privateKey);
  }

  async api<T>(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(`${this.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000) });
    return { status: res.status, json: (await res.json()) as T };
  }

  publish(events: readonly LivescopeEventInput[]): Promise<void> {
    return this.fx.publish(events);
  }

  /** The example Cedar policies and the simulator's seeded fleet, in batches. */
  async provision(extra: readonly LivescopeEventInput[]): Promise<void> {
    await this.publish([policiesEvent(readPolicyDir(`${repoRoot}examples/policies`), 'platform-team')]);
    this.fleet = fleetMembers(42, this.options.fleetSize);
    const now = Date.now();
    const events = [...extra, ...this.fleet.flatMap((m) => provisioningEvents(m, now))];
    for (let i = 0; i < events.length; i += 500) await this.publish(events.slice(i, i + 500));
  }

  /** The simulator's traffic mix over the fleet in the background, until `close` (bounded by count too). */
  startTraffic(maxEvents = 200_000): void {
    if (this.options.trafficPerSecond <= 0) return;
    let stop = false;
    const gen = traffic(7, this.fleet, Date.now());
    const perTick = Math.max(1, Math.round(this.options.trafficPerSecond / 5));
    const loop = (async () => {
      for (let sent = 0; !stop && sent < maxEvents; sent += perTick) {
        const batch: LivescopeEventInput[] = [];
        for (let i = 0; i < perTick; i++) batch.push({ ...gen.next().value, time: new Date().toISOString() });
        await this.publish(batch).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    this.trafficStop = async () => {
      stop = true;
      await loop;
    };
  }

  async close(): Promise<void> {
    await this.trafficStop?.().catch(() => undefined);
    await this.enforcer?.stop().catch(() => undefined);
    if (this.cp && this.cp.exitCode === null) {
      const cp = this.cp;
      const gone = new Promise<void>((r) => cp.once('exit', () => r()));
      cp.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
      if (cp.exitCode === null) cp.kill('SIGKILL');
    }
    this.cpLog?.end();
    await this.worker?.stop().catch(() => undefined);
    await this.closeWorkerStore?.().catch(() => undefined);
    await this.fx?.close();
  }
}
