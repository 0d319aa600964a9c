import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { LivescopeEventInput } from '@livescope/contracts';
import { Enforcer } from '@livescope/enforcer';
import { compileScopePolicy } from '@livescope/scope-engine';
import { createWorker, loadWorkerConfig, type ScopeWorker } from '@livescope/scope-worker';
import { PipelineFixture, testEnv, waitFor } from '@livescope/testkit';
import { generateSigningKeyPair, parsePrivateKey, parsePublicKey, type Logger } from '@livescope/transport';
import { SignJWT } from 'jose';
import type { Role } from '../../src/auth/roles.js';
import { loadControlPlaneConfig } from '../../src/config.js';
import { ControlPlane, type ControlPlaneOptions } from '../../src/ControlPlane.js';

export const ISSUER = 'https://idp.test/livescope';
export const AUDIENCE = 'livescope-api';

/**
 * One isolated pipeline for a test file: topics and schema of a PipelineFixture, a scope worker in
 * process running the Cedar policy adapter (as in production), the control plane on an ephemeral loopback port, optionally an enforcer, and a token
 * issuer whose public key the control plane trusts. Exported as `@livescope/control-plane/testing`
 * (sources only) for the integration tests of clients such as the CLI.
 */
export class Harness {
  fx!: PipelineFixture;
  worker!: ScopeWorker;
  cp!: ControlPlane;
  enforcer: Enforcer | undefined;
  private closeWorkerStore: (() => Promise<void>) | undefined;
  readonly issuerKey = generateKeyPairSync('ed25519');
  readonly strangerKey = generateKeyPairSync('ed25519');
  /** The control plane's producer key; the workers' keyring lets it send what responders and approvers send. */
  readonly cpProducerKey = generateSigningKeyPair('control-plane-test');
  /** The harness enforcer's acknowledgement key (used with `signedAcks`). */
  readonly enforcerAckKey = generateSigningKeyPair('gw-ack-test');

  /** The worker environment with the control plane's producer key in the keyring. */
  private workerEnv(): Record<string, string> {
    return {
      ...this.fx.workerEnv(),
      LIVESCOPE_PRODUCER_KEYS: this.fx.producerKeyring({
        [this.cpProducerKey.kid]: { publicKey: this.cpProducerKey.publicKey, eventTypes: ['order.issued', 'order.lifted', 'session.approval-granted', 'session.approval-revoked', 'policies.published'] },
      }),
    };
  }

  /**
   * `signedAcks`: the harness enforcer signs its acknowledgements with `enforcerAckKey`, and the
   * control plane knows that key for it (`LIVESCOPE_API_ENFORCER_KEYS`).
   */
  constructor(private readonly options: { enforcer?: boolean; signedAcks?: boolean; rateLimitPerMinute?: number; env?: Record<string, string> } = {}) {}

  /** The harness enforcer's id (present when the harness was opened with `enforcer`). */
  get enforcerId(): string {
    return `gw-${this.fx.id}`;
  }

  async open(): Promise<this> {
    this.fx = await new PipelineFixture(3).open();
    const built = await createWorker(loadWorkerConfig(this.workerEnv()), this.fx.logger, compileScopePolicy);
    this.worker = built.worker;
    this.closeWorkerStore = () => built.store.close();
    await this.worker.start();
    this.cp = await this.startControlPlane();
    if (this.options.enforcer) {
      this.enforcer = new Enforcer({
        brokers: testEnv.brokers,
        registryUrl: testEnv.registryUrl,
        enforcerId: this.enforcerId,
        trustedKeys: [parsePublicKey(this.fx.keys.kid, this.fx.keys.publicKey)],
        ...(this.options.signedAcks ? { ackSigningKey: parsePrivateKey(this.enforcerAckKey.kid, this.enforcerAckKey.privateKey) } : {}),
        topicPrefix: this.fx.prefix,
        logger: this.fx.logger,
        requireSession: false,
        flushIntervalMs: 200,
      });
      await this.enforcer.start();
      await this.enforcer.ready;
    }
    return this;
  }

  /** The control plane's environment: the pipeline's, the harness's token issuer and limits, then `env`. */
  controlPlaneEnv(env: Record<string, string> = {}): Record<string, string> {
    const x = (this.issuerKey.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    return {
      ...this.workerEnv(),
      LIVESCOPE_PRODUCER_KEY_ID: this.cpProducerKey.kid,
      LIVESCOPE_PRODUCER_KEY: this.cpProducerKey.privateKey,
      LIVESCOPE_API_PORT: '0',
      LIVESCOPE_API_GROUP_ID: `${this.fx.groupId}-cp`,
      LIVESCOPE_API_JWT_PUBLIC_KEYS: JSON.stringify({ 'test-issuer': x }),
      LIVESCOPE_API_JWT_ISSUER: ISSUER,
      LIVESCOPE_API_JWT_AUDIENCE: AUDIENCE,
      // Functional tests send many refused tokens from one address; the limits have tests of their own.
      LIVESCOPE_API_RATE_LIMIT_PER_MINUTE: String(this.options.rateLimitPerMinute ?? 100_000),
      LIVESCOPE_API_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '100000',
      LIVESCOPE_API_RATE_LIMIT_PUBLIC_PER_MINUTE: '100000',
      LIVESCOPE_API_ENFORCER_LIVENESS_MS: '600000',
      ...(this.options.signedAcks ? { LIVESCOPE_API_ENFORCER_KEYS: JSON.stringify({ [this.enforcerId]: { [this.enforcerAckKey.kid]: this.enforcerAckKey.publicKey } }) } : {}),
      ...this.options.env,
      ...env,
    };
  }

  /**
   * Starts a control plane on this pipeline (the harness's own at `open`); `env` overrides its
   * environment (another group id for a second instance, addresses of PostgreSQL or the registry).
   */
  async startControlPlane(env: Record<string, string> = {}, logger: Logger = this.fx.logger, options: Omit<ControlPlaneOptions, 'validateResponses'> = {}): Promise<ControlPlane> {
    const cp = new ControlPlane(loadControlPlaneConfig(this.controlPlaneEnv(env)), logger, { ...options, validateResponses: true });
    await cp.start();
    return cp;
  }

  /** Stops the harness's control plane and starts a new one with the same configuration (another port). */
  async restartControlPlane(): Promise<void> {
    await this.cp.stop();
    this.cp = await this.startControlPlane();
  }

  async close(): Promise<void> {
    await this.enforcer?.stop().catch(() => undefined);
    await this.cp?.stop().catch(() => undefined);
    await this.worker?.stop().catch(() => undefined);
    await this.closeWorkerStore?.().catch(() => undefined);
    await this.fx?.close();
  }

  publish(events: readonly LivescopeEventInput[]): Promise<void> {
    return this.fx.publish(events);
  }

  /**
   * A token from the trusted issuer, of a person (`kind: human`) unless `kind` says otherwise;
   * override claims or sign with another key to forge one.
   */
  async token(roles: readonly Role[], sub = 'alice', o: { expiresInSec?: number; audience?: string; issuer?: string; key?: KeyObject; kid?: string; kind?: string | null } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const kind = o.kind === undefined ? 'human' : o.kind;
    return new SignJWT({ roles: [...roles], ...(kind !== null ? { kind } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: o.kid ?? 'test-issuer' })
      .setSubject(sub)
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (o.expiresInSec ?? 600))
      .sign(o.key ?? this.issuerKey.privateKey);
  }

  async api(method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.cp.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  /** Waits until the identity's scope of record satisfies `check`. */
  async scopeWhere(identityId: string, check: (s: { version: number; permissions: { action: string; resource: string }[] }) => boolean, timeoutMs = 20_000): Promise<void> {
    const token = await this.token(['soc'], 'harness');
    await waitFor(
      `the scope of ${identityId}`,
      async () => {
        const r = await this.api('GET', `/v1/identities/${identityId}/scope`, token);
        return r.status === 200 && check(r.json as { version: number; permissions: { action: string; resource: string }[] });
      },
      timeoutMs,
      50,
    );
  }
}
